module homelab.test/echo

go 1.21
