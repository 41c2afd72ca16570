// Host paths that lead to code or credentials are refused as volumes and as the data folder, and
// service names that mean something else inside a container are refused as service keys; each
// refused class on a Mac (docker-desktop, homes under /Users/me) and on Linux (homes under
// /home/me), each beside valid controls that must still be accepted. Runs the validator alone.
import { strict as assert } from "assert";
import { EXAMPLE, EXAMPLE_SECRET_NAMES, clone } from "../harness";
import { ConfigError, Problem, validate } from "../../stacks/validate";
import { rawConfigOf } from "../../stacks/stackFile";
import {
    dataDirProblem,
    hostPathRules,
    protectedMountProblem,
    protectedPathRules,
    ruleHits,
    segmentMatches,
} from "../../stacks/hostPaths";
import { RESERVED_NAMES, RESERVED_SERVICE_NAMES, Runtime } from "../../stacks/model";

type Cfg = Record<string, any>;
type Os = "mac" | "linux";
const HOME: Record<Os, string> = { mac: "/Users/me", linux: "/home/me" };
const RUNTIME: Record<Os, Runtime> = { mac: "docker-desktop", linux: "linux" };
/** `~` → the home folder on that OS. */
const at = (os: Os, p: string) => p.replace(/^~(?=\/|$)/, HOME[os]);

/** The example stack, moved to Linux when asked (IPv4 tailnet, a listed LAN address, /srv). */
function stack(os: Os): Cfg {
    const c = clone(EXAMPLE);
    if (os === "linux") {
        c["homelab:docker"] = {
            ...c["homelab:docker"],
            runtime: "linux",
            dataDir: "/srv/homelab",
            listenAddresses: ["192.168.1.20"],
        };
        c["homelab:tailnet"] = { ipv4: c["homelab:tailnet"].ipv4 };
    }
    return c;
}

function problemsOf(c: Cfg): Problem[] {
    try {
        validate(rawConfigOf(c), EXAMPLE_SECRET_NAMES);
        return [];
    } catch (e) {
        if (e instanceof ConfigError) return e.problems;
        throw e;
    }
}

const svc = (c: Cfg) => c["homelab:services"] as Record<string, any>;

/** One class of host path: what is refused (writable, and read-only too where said), what is not. */
interface PathClass {
    name: string;
    os: Os;
    /** Refused when mounted writable (`~` is the home folder). */
    writable: string[];
    /** Refused even when mounted read-only. */
    readOnly?: string[];
    /** What the message says, for every refused path of the class at or below its rules. */
    text?: RegExp;
    /** Folders around the class's rules: refused even read-only (naming any rule they expose). */
    parents?: string[];
    /** Valid controls beside the class: accepted as given (`:ro` suffix for read-only). */
    controls: string[];
}

const CLASSES: PathClass[] = [
    // --- found by the review of 2026-12-05 (hostile stack files)
    {
        name: "Cloudflare, cloud-init, Red Hat TLS keys and mesh VPN identities on a Linux host",
        os: "linux",
        writable: [
            "/etc/cloudflared",
            "/etc/cloudflared/cert.pem",
            "/var/lib/cloud",
            "/var/lib/cloud/scripts/per-boot",
            "/etc/pki/tls/private",
            "/etc/pki/nssdb",
            "/var/lib/zerotier-one",
            "/var/lib/netbird",
            "/etc/nebula",
            "/run/crio/crio.sock",
            "~/.config/.wrangler",
            "~/.local/lib",
        ],
        readOnly: [
            "/etc/cloudflared",
            "/var/lib/cloud",
            "/etc/pki/tls/private/server.key",
            "/var/lib/zerotier-one/identity.secret",
            "~/.mozilla",
            "~/.config/google-chrome",
            "~/.var/app/org.mozilla.firefox",
            "~/.config/.wrangler/config/default.toml",
        ],
        text: /cloudflared|cloud-init|private keys|mesh VPN|engine|wrangler|browser|site-packages/,
        controls: [
            "/etc/pki/ca-trust/extracted:ro",
            "/etc/ssl/certs:ro",
            "~/.local/lib/python3.12:ro",
            "~/.config/syncthing",
        ],
    },
    {
        name: "browser profiles, wrangler's login and Python's user site on a Mac",
        os: "mac",
        writable: [
            "~/Library/Application Support/Google/Chrome",
            "~/Library/Application Support/Firefox/Profiles",
            "~/Library/Safari",
            "~/Library/Cookies",
            "~/Library/Preferences/.wrangler",
            "~/Library/Python",
            "/Library/Application Support/ZeroTier/One",
        ],
        readOnly: ["~/Library/Application Support/Google/Chrome", "~/Library/Preferences/.wrangler"],
        text: /browser|wrangler|site-packages|mesh VPN/,
        controls: ["~/Library/Application Support/Plex Media Server", "~/Library/Python/3.12:ro"],
    },
    // --- found by the second review of this work
    {
        name: "host secrets readable through /etc, and their backups",
        os: "linux",
        writable: [
            "/etc/shadow-",
            "/etc/gshadow-",
            "/var/backups",
            "/etc/ssl/private",
            "/etc/letsencrypt/live",
            "/etc/NetworkManager/system-connections",
            "/etc/wpa_supplicant",
            "/var/lib/iwd",
            "/etc/pve",
        ],
        readOnly: [
            "/etc/shadow-",
            "/var/backups/shadow.bak",
            "/etc/ssl/private",
            "/etc/letsencrypt",
            "/etc/NetworkManager/system-connections",
            "/etc/netplan",
        ],
        controls: ["/etc/ssl/certs:ro", "/etc/localtime:ro", "/var/lib/homelab-backups"],
    },
    {
        name: "the engine's raw socket and the forwarded SSH agent (Docker Desktop, OrbStack)",
        os: "mac",
        writable: ["/var/run/docker.sock.raw", "/run/host-services/ssh-auth.sock"],
        readOnly: ["/var/run/docker.sock.raw", "/run/host-services"],
        controls: ["~/media", "/Volumes/Media/Movies:ro"],
    },
    {
        name: "shell startup folders and git's configuration in a home",
        os: "linux",
        writable: ["~/.config/zsh", "~/.zsh", "~/.bashrc.d", "~/.gitconfig", "~/.config/git/config"],
        readOnly: ["~/.gitconfig", "~/.config/zsh/.zshrc"],
        controls: ["~/projects/site", "~/.config/syncthing"],
    },
    // --- code the user's session or the system runs by itself
    {
        name: "code launchd and login items start",
        os: "mac",
        writable: [
            "~/Library/LaunchAgents",
            "~/Library/LaunchAgents/com.evil.plist",
            "/Library/LaunchAgents/x",
            "/Library/LaunchDaemons",
            "/Library/LaunchDaemons/com.evil.plist",
            "/Library/StartupItems/x",
            "~/Library/Application Support/com.apple.backgroundtaskmanagementagent",
            "/private/var/at/tabs",
            "/usr/lib/cron/tabs",
        ],
        readOnly: ["~/Library/LaunchAgents", "~/library/launchagents"],
        text: /launchd|login items|starts|cron|programs/,
        controls: [
            "~/Library/Application Support/Plex Media Server",
            "~/Library/LaunchAgents/com.example.plist:ro",
            "~/Library/Preferences/com.example.plist:ro",
            "/Library/Fonts:ro",
        ],
    },
    {
        name: "code systemd, the session bus and the desktop start",
        os: "linux",
        writable: [
            "~/.config/systemd/user",
            "~/.config/systemd",
            "~/.local/share/systemd/timers",
            "~/.config/autostart",
            "~/.config/environment.d",
            "/etc/systemd/system",
            "/etc/cron.d",
            "/etc/cron.daily",
            "/usr/lib/systemd/system",
            "/lib/systemd/system",
            "/var/spool/cron/crontabs",
            "/var/lib/dpkg/info",
        ],
        readOnly: [
            "/run/systemd",
            "/run/systemd/private",
            "/var/run/systemd",
            "/run/dbus",
            "/run/dbus/system_bus_socket",
            "/run/user/1000/bus",
            "/run/user/1000/systemd",
            "~/.config/systemd",
        ],
        parents: ["~/.config", "~/.local/share", "/run/user/1000"],
        text: /systemd|D-Bus|autostart|environment|cron|dpkg|programs|scheduled jobs|read-only/,
        controls: [
            "~/.config/jellyfin",
            "~/.local/share/jellyfin",
            "/run/user/1000/pulse",
            "/etc/systemd/system:ro",
            "/etc/localtime:/etc/localtime:ro",
        ],
    },
    {
        name: "shell startup files (code, and often tokens)",
        os: "mac",
        writable: [
            "~/.zshrc",
            "~/.zprofile",
            "~/.zshenv",
            "~/.bash_profile",
            "~/.profile",
            "~/.config/fish",
            "~/.oh-my-zsh/custom",
        ],
        readOnly: ["~/.zshrc", "~/.bash_profile", "~/.config/fish/config.fish"],
        text: /every shell/,
        controls: ["~/zsh-history-backup:ro", "~/.zsh_history-export:ro", "~/.config/glance"],
    },
    {
        name: "shell startup files (code, and often tokens)",
        os: "linux",
        writable: ["~/.bashrc", "~/.profile", "~/.bash_profile", "~/.zshrc", "~/.config/fish", "~/.xprofile"],
        readOnly: ["~/.bashrc", "~/.profile", "~/.config/fish"],
        text: /every shell/,
        controls: ["~/.bashrc.d-notes:ro", "~/shell-scripts:ro"],
    },
    {
        name: "folders on the user's PATH",
        os: "mac",
        writable: ["~/.local/bin", "~/bin", "~/bin/x"],
        readOnly: ["~/bin"],
        parents: ["~/.local"],
        text: /PATH|read-only/,
        controls: ["~/.local/bin/tool:ro", "~/binaries-archive", "~/.local/share/app"],
    },
    {
        name: "folders on the user's PATH",
        os: "linux",
        writable: ["~/.local/bin", "~/bin"],
        readOnly: ["~/.local/bin", "~/bin"],
        text: /PATH/,
        controls: ["~/.local/bin/tool:ro", "~/.local/state/app"],
    },
    // --- package manager prefixes and toolchains whose programs run
    {
        name: "package prefixes whose programs run (Homebrew, MacPorts, apps, toolchains)",
        os: "mac",
        writable: [
            "/opt/homebrew",
            "/opt/homebrew/bin",
            "/opt/homebrew/Cellar/haproxy",
            "/opt/homebrew/var/app",
            "/usr/local/Homebrew",
            "/usr/local/Cellar",
            "/usr/local/bin",
            "/usr/local/opt/haproxy",
            "/opt/local/bin",
            "/Applications/Docker.app",
            "~/Applications/x.app",
            "~/.nvm/versions",
            "~/.pyenv",
            "~/.cargo/bin",
            "~/go/bin",
            "~/.bun/bin",
        ],
        readOnly: ["/opt/homebrew", "/usr/local", "/opt/local", "/Applications"],
        parents: ["/opt", "~/.cargo", "~/go"],
        text: /Homebrew|MacPorts|apps|programs the user runs/,
        controls: [
            "/opt/homebrew/share/zoneinfo:ro",
            "/opt/homebrew/etc/app:ro",
            "/opt/appdata/gatus",
            "/opt/homelab-media",
            "~/go-projects/site",
            "~/code/site",
        ],
    },
    {
        name: "package prefixes whose programs run (Linuxbrew, Nix, snap, Flatpak, toolchains)",
        os: "linux",
        writable: [
            "/home/linuxbrew/.linuxbrew",
            "/home/linuxbrew/.linuxbrew/bin",
            "~/.linuxbrew",
            "/nix",
            "/nix/store",
            "/nix/var/nix/profiles",
            "/snap/bin",
            "/var/lib/flatpak",
            "~/.local/share/flatpak",
            "~/.pyenv",
            "~/.rustup",
            "/usr/local/bin",
            "/usr/local/lib/node_modules",
        ],
        readOnly: [
            "/home/linuxbrew/.linuxbrew",
            "/nix",
            "/nix/var/nix/daemon-socket",
            "/nix/var/nix/daemon-socket/socket",
            "/run/snapd.socket",
            "/var/lib/snapd",
            "/snap",
        ],
        text: /Homebrew|Nix|snap|Flatpak|programs|toolchain/,
        controls: [
            "/nix/store/abc-zoneinfo:ro",
            "/usr/local/share/ca-certificates:ro",
            "/opt/appdata/gatus",
            "/srv/gatus",
            "~/media",
        ],
    },
    // --- other container engines' sockets and data roots
    {
        name: "other container engines (Docker Desktop, OrbStack, Colima, Lima, Rancher Desktop, Podman)",
        os: "mac",
        writable: ["~/Library/Containers/com.docker.docker"],
        readOnly: [
            "~/Library/Containers/com.docker.docker",
            "~/Library/Containers/com.docker.docker/Data/vms/0/data/Docker.raw",
            "~/Library/Group Containers/group.com.docker",
            "~/.orbstack",
            "~/.orbstack/ssh",
            "~/Library/Group Containers/HUAQ24HBR6.dev.orbstack",
            "~/Library/Group Containers/HUAQ24HBR6.dev.orbstack/data",
            "~/.colima/default",
            "~/.lima/default",
            "~/.rd",
            "~/.rd/docker.sock",
            "~/Library/Application Support/rancher-desktop/lima",
            "~/.local/share/containers/podman/machine",
            "~/.config/containers",
            "~/OrbStack/docker/volumes",
            "/var/folders/xy/abc123/T/podman/podman-machine-default-api.sock",
            "/private/var/folders/xy/abc123/T/podman",
        ],
        text: /engine|container's files|VM|Lima|Podman|OrbStack|Docker Desktop|Rancher/,
        parents: ["~/Library/Group Containers", "~/Library/Containers", "~/Library", "~/Library/Application Support"],
        controls: [
            "~/Library/Containers/com.example.notes:ro",
            "~/Library/Group Containers/group.com.example.notes:ro",
            "~/docker/jellyfin",
            "~/containers/jellyfin",
            "~/.config/glance",
        ],
    },
    {
        name: "other container engines (rootless Docker, Podman, containerd, k3s, LXD, libvirt)",
        os: "linux",
        writable: ["~/.local/share/docker", "~/.config/docker/daemon.json"],
        readOnly: [
            "~/.local/share/docker",
            "~/.local/share/docker/volumes",
            "/run/user/1000/docker",
            "/run/user/1000/docker/containerd/containerd.sock",
            "/var/run/user/1000/docker",
            "~/.local/share/containers/storage",
            "/var/lib/containers/storage",
            "/run/containers/0/auth.json",
            "/run/user/1000/containers/auth.json",
            "/var/lib/rancher/k3s",
            "/run/k3s/containerd/containerd.sock",
            "/etc/rancher/k3s/k3s.yaml",
            "/etc/kubernetes/admin.conf",
            "/var/lib/kubelet/pods",
            "/var/snap/docker/common/var-lib-docker",
            "/var/lib/lxd/unix.socket",
            "/var/lib/incus",
            "/run/libvirt/libvirt-sock",
            "/var/lib/libvirt/images",
            "/var/lib/buildkit",
        ],
        text: /engine|container's files|Docker|Podman|k3s|cluster|pod|LXD|libvirt/,
        controls: [
            "~/docker/appdata",
            "/srv/containers/jellyfin",
            "/var/lib/jellyfin",
            "/var/snap/other-app:ro",
            "/run/user/1000/pulse",
        ],
    },
    // --- the tailnet daemon's state and socket
    {
        name: "the tailnet node's keys and socket",
        os: "mac",
        writable: ["/Library/Tailscale"],
        readOnly: [
            "/Library/Tailscale",
            "/Library/Tailscale/tailscaled.state",
            "/var/run/tailscaled.socket",
            "/private/var/run/tailscaled.socket",
            "/var/root/Library/Containers/io.tailscale.ipn.macsys.network-extension",
            "~/Library/Containers/io.tailscale.ipn.macos",
            "~/Library/Containers/io.tailscale.ipn.macos.network-extension/Data",
            "~/Library/Group Containers/W5364U7YZB.io.tailscale.ipn.macos",
            "~/Library/Group Containers/W5364U7YZB.io.tailscale.ipn.macsys/x",
            "/opt/homebrew/etc/wireguard",
        ],
        text: /tailnet|root's home|WireGuard/,
        controls: ["/Library/Fonts:ro", "~/Library/Containers/io.example.app:ro", "~/tailscale-notes:ro"],
    },
    {
        name: "the tailnet node's keys and socket",
        os: "linux",
        writable: ["/var/lib/tailscale"],
        readOnly: [
            "/var/lib/tailscale",
            "/var/lib/tailscale/tailscaled.state",
            "/run/tailscale",
            "/var/run/tailscale/tailscaled.sock",
            "~/.local/share/tailscale",
            "/etc/wireguard",
            "/etc/wireguard/wg0.conf",
        ],
        text: /tailnet|WireGuard/,
        parents: ["/var/lib", "/run"],
        controls: ["/var/lib/tailscale-exporter", "/etc/default/tailscaled:ro", "/srv/tailscale-docs:ro"],
    },
    // --- credentials, refused even read-only
    {
        name: "credentials (cloud CLIs, registries, keychains, password stores)",
        os: "mac",
        writable: ["~/.aws"],
        readOnly: [
            "~/.aws",
            "~/.aws/credentials",
            "~/.config/gcloud",
            "~/.azure",
            "~/.kube/config",
            "~/.docker",
            "~/.docker/config.json",
            "~/.gnupg",
            "~/.password-store",
            "~/Library/Keychains",
            "~/Library/Keychains/login.keychain-db",
            "/Library/Keychains/System.keychain",
            "~/.config/op",
            "~/.netrc",
            "~/.git-credentials",
            "~/.config/gh/hosts.yml",
            "~/.npmrc",
            "~/.cloudflared/cert.pem",
            "/var/root",
            "/private/var/root/.ssh",
            "/private/var/db/dslocal/nodes/Default/users",
            "/private/tmp/com.apple.launchd.AbCdEf/Listeners",
            "/tmp",
            "~/Library/Group Containers/2BUA8C4S2C.com.1password/t/agent.sock",
        ],
        text: /credentials|registry|keys|keychains|password|token|cloudflared|1Password|root's home|user accounts|engine|agent/,
        controls: [
            "~/Documents/recipes:ro",
            "~/aws-exports:ro",
            "~/.config/glance",
            "~/Library/Application Support/Plex Media Server:ro",
        ],
    },
    {
        name: "credentials (cloud CLIs, registries, keyrings, password stores)",
        os: "linux",
        writable: ["~/.kube"],
        readOnly: [
            "~/.kube",
            "~/.azure",
            "~/.config/gcloud/application_default_credentials.json",
            "~/.password-store",
            "~/.local/share/keyrings",
            "~/.docker/config.json",
            "~/.pypirc",
            "~/.cargo/credentials.toml",
            "~/.vault-token",
            "/root/.aws",
            "/var/home/me/.ssh",
            "/var/home/me/.aws",
            "/var/home/me",
            "/run/user/1000/gnupg/S.gpg-agent.ssh",
            "/run/user/1000/keyring/ssh",
            "/tmp/ssh-XXXXabcd/agent.1234",
            "/tmp/.X11-unix",
        ],
        text: /credentials|keyring|password|registr|token|root's home|SSH keys|home folder|agent|X server/,
        controls: [
            "/home/me/photos:ro",
            "~/.config/jellyfin",
            "/var/home/me/media",
            "~/.cargo-docs:ro",
            "/tmp/transcode",
            "/run/user/1000/pulse",
        ],
    },
];

describe("host paths: refused classes, each beside valid controls", () => {
    for (const cls of CLASSES) {
        const refused: [string, boolean, boolean][] = [
            ...cls.writable.map((p): [string, boolean, boolean] => [p, false, false]),
            ...(cls.readOnly ?? []).map((p): [string, boolean, boolean] => [p, true, false]),
            ...(cls.parents ?? []).map((p): [string, boolean, boolean] => [p, true, true]),
        ];
        for (const [p, ro, parent] of refused) {
            const src = at(cls.os, p);
            it(`${cls.os}: refuses ${src}${ro ? " read-only" : " writable"}${parent ? " (around the rules)" : ""} (${cls.name})`, () => {
                const c = stack(cls.os);
                svc(c)["gatus"].volumes = [`${HOME[cls.os]}/selfhost/gatus:/config`, `${src}:/mnt/x${ro ? ":ro" : ""}`];
                const problems = problemsOf(c);
                const key = "homelab:services.gatus.volumes[1]";
                const hit = problems.find((x) => x.key === key);
                assert.ok(hit, `no problem for ${key}; got ${JSON.stringify(problems)}`);
                if (cls.text && !parent) assert.match(hit.message, cls.text);
                if (ro)
                    assert.doesNotMatch(
                        hit.message,
                        /mount read-only/,
                        "a read-only mount is never told to mount read-only",
                    );
                assert.deepEqual(
                    problems.map((x) => x.key),
                    [key],
                    "nothing else is refused",
                );
            });
        }
        it(`${cls.os}: accepts the controls beside ${cls.name}`, () => {
            const c = stack(cls.os);
            svc(c)["gatus"].volumes = cls.controls.map((v, i) => {
                const [src = "", ...rest] = v.split(":");
                const dst = rest.length === 2 || (rest.length === 1 && rest[0] !== "ro") ? rest.shift() : `/mnt/c${i}`;
                return [at(cls.os, src), dst, ...rest].join(":");
            });
            assert.deepEqual(problemsOf(c), []);
        });
    }

    it("a writable mount of a secret inside a read-only system folder is refused outright, not told to mount read-only", () => {
        for (const os of ["mac", "linux"] as const) {
            for (const src of [
                "/Library/Tailscale",
                "/Library/Keychains",
                "/etc/kubernetes",
                "/etc/rancher",
                "/etc/wireguard",
                "/usr/local/etc/wireguard",
                "/opt/homebrew/etc/wireguard",
                "/var/db/dslocal",
                "/nix/var/nix/daemon-socket",
            ]) {
                const m = protectedMountProblem(src, hostPathRules("/srv/homelab"), RUNTIME[os]);
                assert.ok(m, `${os} ${src}`);
                assert.doesNotMatch(m, /read-only \(:ro\)/, `${os} ${src}: ${m}`);
            }
        }
    });

    it("every refusal that holds even read-only is not told to mount read-only (each overlap rule, on both OSes)", () => {
        const concrete = (p: string) => p.replace(/\*/g, "x");
        for (const os of ["mac", "linux"] as const) {
            const rules = hostPathRules("/srv/homelab");
            for (const r of rules.filter((x) => x.scope === "overlap")) {
                for (const ro of [false, true]) {
                    const m = protectedMountProblem(concrete(r.pattern), rules, RUNTIME[os], ro);
                    assert.ok(m, `${os} ${r.pattern}`);
                    assert.doesNotMatch(m, /read-only \(:ro\)/, `${os} ${r.pattern} ${ro ? "ro" : "rw"}: ${m}`);
                }
            }
        }
    });

    it("below each read-only rule, a read-only mount is accepted and a writable one refused with that advice", () => {
        const rules = hostPathRules("/srv/homelab");
        for (const os of ["mac", "linux"] as const) {
            for (const r of rules.filter((x) => x.scope === "readOnly")) {
                const src = `${r.pattern.replace(/\*/g, "x")}/zz-test`;
                assert.equal(protectedMountProblem(src, rules, RUNTIME[os], true), undefined, `${os} ${src}:ro`);
                assert.match(
                    protectedMountProblem(src, rules, RUNTIME[os], false) ?? "",
                    /read-only \(:ro\)/,
                    `${os} ${src}`,
                );
                assert.ok(
                    protectedMountProblem(r.pattern.replace(/\*/g, "x"), rules, RUNTIME[os], true),
                    `${os} ${r.pattern} itself`,
                );
            }
        }
    });

    it("every rule says why, and patterns are absolute", () => {
        for (const r of protectedPathRules("/run/x.sock")) {
            assert.ok(r.pattern.startsWith("/"), r.pattern);
            assert.ok(
                /^(is|holds|gives|shows|runs|sets|names) /.test(r.why) && r.why.length > 10,
                `${r.pattern}: ${r.why}`,
            );
        }
    });
});

describe("host paths: segment globs", () => {
    it("`*` alone matches one whole segment; inside a segment it matches any characters of that segment only", () => {
        assert.ok(segmentMatches("me", "*"));
        assert.ok(segmentMatches("huaq24hbr6.dev.orbstack", "*.dev.orbstack"));
        assert.ok(segmentMatches(".dev.orbstack", "*.dev.orbstack"));
        assert.ok(segmentMatches("io.tailscale.ipn.macos.network-extension", "io.tailscale.ipn.*"));
        assert.ok(!segmentMatches("dev.orbstack", "*.dev.orbstack"));
        assert.ok(!segmentMatches("group.com.docker", "*.dev.orbstack"));
        assert.ok(!segmentMatches("x.dev.orbstack.bak", "*.dev.orbstack"), "anchored at both ends");
        assert.ok(!segmentMatches("io-tailscale-ipn-macos", "io.tailscale.ipn.*"), "a dot in a pattern is a dot");
    });

    it("a glob never crosses a segment, and matches in any letter case on a Mac only", () => {
        const rule = {
            pattern: "/Users/*/Library/Group Containers/*.dev.orbstack",
            scope: "overlap" as const,
            why: "x",
        };
        assert.ok(ruleHits("/Users/me/Library/Group Containers/A.dev.orbstack/data", rule, "orbstack"));
        assert.ok(ruleHits("/users/me/library/group containers/A.DEV.ORBSTACK", rule, "colima"));
        assert.ok(!ruleHits("/Users/me/Library/Group Containers/a/b.dev.orbstack", rule, "orbstack"));
        assert.ok(!ruleHits("/users/me/library/group containers/A.DEV.ORBSTACK", rule, "linux"));
    });
});

/** Data folders, by OS: refused (with what the message says) and accepted. */
const DATA_DIRS: { os: Os; refused: [string, RegExp][]; accepted: string[] }[] = [
    {
        os: "mac",
        refused: [
            ["/tmp/homelab", /emptied at boot/],
            ["/private/tmp/homelab", /\/tmp/],
            ["/Volumes/Macintosh HD/private/tmp/homelab", /\/tmp/],
            ["/var/tmp/homelab", /30 days/],
            ["/var/folders/xy/abc123/T/homelab", /purges/],
            ["/private/var/folders/xy/abc123/C/homelab", /purges/],
            ["/var/run/homelab", /tmpfs/],
            ["/Users/me/Library/Caches/homelab", /macOS purges/],
            ["/Library/Caches/homelab", /macOS purges/],
            ["/Users/me/.cache/homelab", /cleaners/],
            ["/Users/me/.Trash/homelab", /Trash/],
            ["/Users/me/Library/Mobile Documents/com~apple~CloudDocs/homelab", /iCloud/],
            ["/Users/me/Library/CloudStorage/Dropbox/homelab", /cloud drives/],
            ["/Users/me", /whole home folder/],
            ["/users/ME", /whole home folder/],
            ["/opt/homebrew/var/homelab", /Homebrew/],
            ["/usr/local/var/homelab", /Homebrew/],
            ["/Library/Tailscale/homelab", /tailnet/],
            ["/Library/Application Support/homelab", /\/Library/],
            ["/Users/me/Library/LaunchAgents/homelab", /launchd/],
            ["/Users/me/.docker/homelab", /registry logins/],
            ["/Users/me/.orbstack/homelab", /engine/],
            ["/Users/me/.ssh/homelab", /SSH keys/],
            ["/private/etc/homelab", /\/etc/],
            ["/System/Volumes/Data/private/var/root/homelab", /root's home/],
        ],
        accepted: [
            "/Users/me/selfhost",
            "/Users/me/My Selfhost",
            "/Volumes/Media/homelab",
            "/opt/homelab",
            "/srv/homelab",
            "/Users/me/Library/Application Support/homelab",
            "/Users/me/.config/homelab",
            "/Users/me/tmp/homelab",
            "/Users/me/caches-of-old/homelab",
        ],
    },
    {
        os: "linux",
        refused: [
            ["/tmp/homelab", /emptied at boot/],
            ["/var/tmp/homelab", /30 days/],
            ["/run/homelab", /tmpfs/],
            ["/var/run/homelab", /tmpfs/],
            ["/run/user/1000/homelab", /tmpfs/],
            ["/dev/shm/homelab", /memory/],
            ["/proc/homelab", /not a folder on disk/],
            ["/sys/homelab", /not a folder on disk/],
            ["/var/cache/homelab", /cache/],
            ["/home/me/.cache/homelab", /cleaners/],
            ["/home/me/.local/share/Trash/files/homelab", /Trash/],
            ["/home/me", /whole home folder/],
            ["/var/home/me", /whole home folder/],
            ["/var/lib/docker/homelab", /container's files/],
            ["/home/me/.local/share/docker/homelab", /container's files/],
            ["/var/lib/tailscale/homelab", /tailnet/],
            ["/etc/homelab", /\/etc/],
            ["/usr/local/homelab", /Homebrew|programs/],
            ["/nix/homelab", /Nix/],
            ["/home/linuxbrew/.linuxbrew/var/homelab", /Homebrew/],
            ["/var/lib/rancher/homelab", /k3s/],
            ["/root/homelab", /root's home/],
            ["/proc", /not a folder on disk/],
        ],
        accepted: [
            "/srv/homelab",
            "/opt/homelab",
            "/opt/appdata/homelab",
            "/var/lib/homelab",
            "/home/me/homelab",
            "/home/me/.local/share/homelab",
            "/mnt/data/homelab",
            "/srv/tmp-old/homelab",
        ],
    },
];

describe("homelab:docker.dataDir: a durable folder of its own", () => {
    for (const { os, refused, accepted } of DATA_DIRS) {
        for (const [dir, text] of refused) {
            it(`${os}: refuses ${dir}`, () => {
                const c = stack(os);
                c["homelab:docker"] = { ...c["homelab:docker"], dataDir: dir };
                // The example's volumes sit in the Mac's data folder; keep them clear of the new one.
                for (const s of Object.values(svc(c))) if (s.volumes) s.volumes = [];
                const problems = problemsOf(c);
                const hit = problems.find((x) => x.key === "homelab:docker.dataDir");
                assert.ok(hit, `no problem for homelab:docker.dataDir; got ${JSON.stringify(problems)}`);
                assert.match(hit.message, text);
                assert.deepEqual(
                    problems.map((x) => x.key),
                    ["homelab:docker.dataDir"],
                    "nothing else is refused",
                );
            });
        }
        it(`${os}: accepts ${accepted.join(", ")}`, () => {
            for (const dir of accepted) {
                const c = stack(os);
                c["homelab:docker"] = { ...c["homelab:docker"], dataDir: dir };
                for (const s of Object.values(svc(c))) if (s.volumes) s.volumes = [];
                assert.deepEqual(problemsOf(c), [], dir);
            }
        });
    }

    it("the check is pure and the same on every Mac runtime", () => {
        for (const runtime of ["docker-desktop", "orbstack", "colima"] as const) {
            assert.match(dataDirProblem("/private/var/folders/ab/T/x", runtime) ?? "", /purges/, runtime);
            assert.equal(dataDirProblem("/Users/me/selfhost", runtime), undefined, runtime);
        }
        assert.equal(dataDirProblem("/private/tmp/x", "linux"), undefined, "on Linux /private is not the Mac's alias");
        assert.match(
            dataDirProblem("/opt/engine/engine.sock/x", "linux", "/opt/engine/engine.sock") ?? "",
            /container engine/,
        );
    });

    it("the example stacks' data folders are accepted", () => {
        for (const [dir, runtime] of [
            ["/Users/me/selfhost", "docker-desktop"],
            ["/srv/lab", "linux"],
            ["/opt/homelab", "linux"],
            ["/srv/ws", "linux"],
        ] as const)
            assert.equal(dataDirProblem(dir, runtime), undefined, dir);
    });
});

describe("service names that mean something else inside a container", () => {
    const refused: [string, RegExp][] = [
        ["localhost", /loopback/],
        ["ip6-localhost", /loopback/],
        ["ip6-loopback", /loopback/],
        ["ip6-allnodes", /\/etc\/hosts/],
        ["ip6-allrouters", /\/etc\/hosts/],
        ["ip6-localnet", /\/etc\/hosts/],
        ["ip6-mcastprefix", /\/etc\/hosts/],
        ["host", /Docker host/],
        ["host-gateway", /host's address/],
        ["caddy", /stack's own containers/],
        ["haproxy", /stack's own containers/],
        ["cloudflared", /stack's own containers/],
        ["ddns", /stack's own containers/],
        ["host.docker.internal", /DNS label/],
        ["gateway.docker.internal", /DNS label/],
        ["host.containers.internal", /DNS label/],
        ["_gateway", /DNS label/],
        ["Localhost", /DNS label/],
    ];
    for (const [name, text] of refused) {
        it(`refuses the service name ${name}, naming homelab:services.${name}`, () => {
            const c = stack("mac");
            svc(c)[name] = { image: "nginx:1.29.3", port: 80 };
            const problems = problemsOf(c);
            const hit = problems.find((x) => x.key === `homelab:services.${name}`);
            assert.ok(hit, JSON.stringify(problems));
            assert.match(hit.message, text);
        });
    }

    it("accepts the near misses: hostapd, proxy, proxy-manager, localhost-exporter, my-host, gateway, docker, edge, relay, caddy-exporter, metadata", () => {
        for (const name of [
            "hostapd",
            "proxy",
            "proxy-manager",
            "localhost-exporter",
            "my-host",
            "gateway",
            "docker",
            "edge",
            "relay",
            "caddy-exporter",
            "metadata",
            "hosts",
        ]) {
            const c = stack("linux");
            svc(c)[name] = { image: "nginx:1.29.3", port: 80, expose: [] };
            assert.deepEqual(problemsOf(c), [], name);
        }
    });

    it("every reserved name is a DNS label (else the label check would answer first) and says why; the stack's own containers are among them", () => {
        for (const [name, why] of Object.entries(RESERVED_SERVICE_NAMES)) {
            assert.match(name, /^[a-z0-9-]+$/, name);
            assert.ok(why.length > 20, name);
        }
        for (const n of RESERVED_NAMES) assert.match(RESERVED_SERVICE_NAMES[n] ?? "", /stack's own containers/, n);
    });

    it("an upstream at ip6-localhost or ip6-loopback is the proxy's own loopback", () => {
        for (const host of ["ip6-localhost", "ip6-loopback"]) {
            const c = stack("mac");
            svc(c)["llm"].upstream = `${host}:2019`;
            const hit = problemsOf(c).find((x) => x.key === "homelab:services.llm.upstream");
            assert.ok(hit && /loopback/.test(hit.message), host);
        }
    });

    it("a service named like an /etc/hosts entry of the container keeps working under another key (hostname keeps the URL)", () => {
        const c = stack("mac");
        svc(c)["local-host"] = { image: "nginx:1.29.3", port: 80, hostname: "localhost" };
        assert.deepEqual(problemsOf(c), []);
    });
});
