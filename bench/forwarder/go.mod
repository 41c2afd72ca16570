module homelab/bench/forwarder

go 1.22
