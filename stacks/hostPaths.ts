// Host paths a service may not bind-mount. A mount is judged by what it exposes inside the
// container, so a rule covers a path in one of three ways:
// - "overlap": the path, its parents and its children, even read-only (the engine's socket,
//   keys, credentials, /proc);
// - "whole": the path and its parents only; one file or folder below it is fine (homes);
// - "readOnly": the path and its parents are refused, and anything below it only read-only
//   (places whose contents run as code: /etc/localtime:ro is fine, a writable /etc/cron.d is
//   host root, a writable ~/Library/LaunchAgents or /opt/homebrew/bin is the user's next login).
// `*` as a whole segment matches any one segment; inside a segment (`*.dev.orbstack`) it matches
// any characters of that segment. Paths are compared as the host sees them: /var/run is /run; on
// a Mac, letter case and Unicode compatibility forms do not matter, and the data volume, /private
// and the boot volume under /Volumes are aliases.
//
// The rules are the same for every runtime (a Linux path on a Mac, or the reverse, refuses
// nothing that exists). Symlinks are not followed (the program never reads the host's
// filesystem): a link that points into a protected path is not caught here, nor is a path the
// program cannot know (a Docker data-root moved elsewhere, a tailscaled --statedir).
import { Runtime } from "./model";

export interface HostPathRule {
    pattern: string;
    scope: "overlap" | "whole" | "readOnly";
    why: string;
}

const ENGINE = "gives the container control of the container engine and every secret in it";
const ENGINE_STATE = "holds every container's files, volumes and secrets";
const HOME = "is a whole home folder (keys, credentials, the Pulumi state passphrase); mount the folder you need";
const SYSTEM = "holds the host's programs and configuration";
const SYSTEM_WHY: Record<string, string> = {
    "/sys": "is the kernel's control surface",
    "/boot": "holds the host's kernel and boot loader",
    "/var/spool": "holds the host's scheduled jobs",
};
const TAILNET =
    "holds the tailnet node's keys or its control socket (the private plane rests on them): not even read-only";
const SHELL = "runs in every shell the user opens, and often exports tokens: not even read-only";
const TOOLCHAIN = "holds programs the user runs (a language toolchain or its shims)";
const CLOUD = "holds a cloud CLI's credentials";

/** Home folders: Linux, Fedora's atomic desktops (/var/home) and the Mac; root's are /root and /var/root. */
const HOMES = ["/home/*", "/var/home/*", "/Users/*"];
/** `sub` in every home folder. */
const inHomes = (...subs: string[]): string[] => subs.flatMap((sub) => HOMES.map((h) => `${h}/${sub}`));
/** `sub` in a Mac home folder. */
const inMacHomes = (...subs: string[]): string[] => subs.map((sub) => `/Users/*/${sub}`);

/**
 * The rules that do not depend on the stack's data folder: the engine, the host's system folders,
 * code the host runs by itself, package prefixes, other engines, the tailnet's keys, credentials.
 * Refusals that apply whatever the mode come before read-only ones, so a writable mount of a
 * secret inside a system folder is told it is refused, not to mount it read-only.
 */
export function protectedPathRules(dockerSocket?: string): HostPathRule[] {
    const overlap =
        (why: string) =>
        (pattern: string): HostPathRule => ({ pattern, scope: "overlap", why });
    const whole =
        (why: string) =>
        (pattern: string): HostPathRule => ({ pattern, scope: "whole", why });
    const readOnly =
        (why: string) =>
        (pattern: string): HostPathRule => ({ pattern, scope: "readOnly", why });
    return [
        // Whole system folders and homes, said first as the plainest reason when a mount is both.
        whole("is the host's whole filesystem")("/"),
        whole("is the Mac's /etc, /var and /tmp")("/private"),
        ...["/home/*", "/Users/*"].map(whole(HOME)),
        whole("holds every device of the host (use devices for the one you need)")("/dev"),
        // Never, not even read-only: secrets of the host.
        ...[
            "/etc/shadow",
            "/etc/shadow-",
            "/etc/gshadow",
            "/etc/gshadow-",
            "/etc/ssh",
            "/etc/sudoers",
            "/etc/sudoers.d",
        ].map(overlap("holds the host's password hashes (or their backups), SSH host keys or sudo rules")),
        // The engine's socket wherever a runtime puts it, the one docker.host names, and the
        // engines' state.
        ...[
            "/run/docker.sock",
            "/run/docker.sock.raw",
            "/run/docker",
            "/run/containerd",
            "/run/podman",
            "/run/user/*/docker.sock",
            "/run/user/*/podman",
            "/Users/*/.docker/run/docker.sock",
            "/Users/*/.orbstack/run/docker.sock",
        ].map(overlap(ENGINE)),
        ...(dockerSocket ? [overlap(ENGINE)(dockerSocket)] : []),
        overlap(ENGINE_STATE)("/var/lib/docker"),
        overlap(ENGINE_STATE)("/var/lib/containerd"),
        // After the engine's: a mount of /var says the engine first.
        overlap("holds backups of the host's password hashes")("/var/backups"),
        ...[
            "/etc/ssl/private",
            "/etc/letsencrypt",
            "/etc/pve",
            // Red Hat's layout (Fedora, RHEL, Rocky, Alma): service keys and the NSS key databases.
            "/etc/pki/tls/private",
            "/etc/pki/nssdb",
            "/etc/pki/libvirt/private",
        ].map(overlap("holds the host's TLS or cluster private keys")),
        overlap(
            "holds cloudflared's origin certificate as `cloudflared service install` leaves it (the Cloudflare account's tunnels and DNS)",
        )("/etc/cloudflared"),
        overlap(
            "holds cloud-init's instance data (user-data often carries passwords and keys) and the scripts it runs as root at every boot",
        )("/var/lib/cloud"),
        ...["/etc/NetworkManager/system-connections", "/etc/wpa_supplicant", "/var/lib/iwd", "/etc/netplan"].map(
            overlap("holds the host's Wi-Fi and VPN secrets"),
        ),
        // Docker Desktop and OrbStack forward the Mac user's SSH agent here; the raw socket is the VM's engine.
        overlap(
            "holds the Mac user's SSH agent as Docker Desktop and OrbStack forward it: whoever reaches it signs with the user's keys",
        )("/run/host-services"),

        overlap("shows every process on the host, with its environment (secrets) and its root filesystem")("/proc"),
        overlap("is root's home (keys and credentials)")("/root"),
        ...inHomes(".ssh").map(overlap("holds SSH keys")),
        ...inHomes(".pulumi").map(overlap("holds Pulumi's credentials and state")),
        whole(HOME)("/var/home/*"),

        // --- Other container engines, VMs and orchestrators: their sockets, data roots and
        // logins. Any one is every container's files and usually root on the host.
        ...[
            "/run/user/*/docker",
            "/run/user/*/containerd-rootless",
            "/run/k3s",
            "/run/buildkit",
            "/run/crio",
            ...inHomes(".colima", ".config/colima", ".orbstack", ".rd"),
        ].map(overlap(ENGINE)),
        ...[
            "/var/lib/containers",
            "/var/lib/buildkit",
            "/var/snap/docker",
            ...inHomes(
                ".local/share/docker",
                ".local/share/containers",
                ".local/share/containerd",
                ".local/share/rancher-desktop",
            ),
        ].map(overlap(ENGINE_STATE)),
        ...inHomes(".lima").map(overlap("holds Lima's VMs (Colima, Rancher Desktop): their disks and engine sockets")),
        ...inMacHomes("OrbStack").map(overlap("shows every OrbStack volume and machine's files")),
        overlap("holds the Podman machine's API socket on a Mac")("/var/folders/*/*/T/podman"),
        ...inHomes(".config/containers").map(
            overlap("holds Podman's settings, its machines' SSH keys and registry logins"),
        ),
        ...["/run/containers", "/run/user/*/containers"].map(overlap("holds Podman's registry logins (auth.json)")),
        ...inMacHomes("Library/Containers/com.docker.docker").map(
            overlap("holds Docker Desktop's VM disk: every container's files, volumes and secrets"),
        ),
        ...inMacHomes("Library/Group Containers/group.com.docker").map(
            overlap("holds Docker Desktop's settings and sockets"),
        ),
        ...inMacHomes("Library/Group Containers/*.dev.orbstack").map(
            overlap("holds OrbStack's data disk: every container's and machine's files"),
        ),
        ...inMacHomes("Library/Application Support/rancher-desktop").map(
            overlap("holds Rancher Desktop's VM: every container's files and the engine's socket"),
        ),
        overlap("holds k3s/RKE2's data: every container's files, the cluster's token and keys")("/var/lib/rancher"),
        overlap("holds k3s/RKE2's admin kubeconfig and registry logins")("/etc/rancher"),
        overlap("holds the cluster's admin kubeconfig and CA keys")("/etc/kubernetes"),
        overlap("holds every pod's volumes and mounted secrets")("/var/lib/kubelet"),
        ...["/var/lib/lxd", "/var/snap/lxd", "/var/lib/incus"].map(
            overlap("holds LXD/Incus's socket and instances: root on the host"),
        ),
        ...["/run/libvirt", "/var/lib/libvirt"].map(overlap("holds libvirt's socket and VM disks: root on the host")),

        // --- The tailnet daemon's state and socket (Linux, the Mac's standalone and App Store
        // apps, Homebrew's tailscaled) and other VPN keys.
        ...[
            "/var/lib/tailscale",
            "/run/tailscale",
            "/run/tailscaled.socket",
            "/Library/Tailscale",
            "/var/db/tailscale",
            ...inHomes(".local/share/tailscale"),
            ...inMacHomes("Library/Containers/io.tailscale.ipn.*", "Library/Group Containers/*.io.tailscale.ipn.*"),
        ].map(overlap(TAILNET)),
        ...["/etc/wireguard", "/opt/homebrew/etc/wireguard", "/usr/local/etc/wireguard"].map(
            overlap("holds WireGuard's private keys"),
        ),
        ...[
            "/var/lib/zerotier-one",
            "/Library/Application Support/ZeroTier",
            "/var/lib/netbird",
            "/etc/netbird",
            "/var/lib/nebula",
            "/etc/nebula",
        ].map(
            overlap(
                "holds a mesh VPN's identity keys (ZeroTier, NetBird, Nebula): whoever has them joins the network as this host",
            ),
        ),

        // --- Control sockets of the service managers: whoever reaches one starts programs.
        overlap("holds systemd's control socket and runtime units: whoever reaches it starts programs as root")(
            "/run/systemd",
        ),
        overlap(
            "is the system D-Bus: as root in the container, it starts programs as root on the host (through systemd)",
        )("/run/dbus"),
        overlap("holds the user's systemd control socket: whoever reaches it starts programs as the user")(
            "/run/user/*/systemd",
        ),
        overlap("is the user's session D-Bus: through it, systemd starts programs as the user")("/run/user/*/bus"),
        overlap("is the Nix daemon's socket: whoever reaches it builds and installs into the store as root")(
            "/nix/var/nix/daemon-socket",
        ),
        ...["/run/snapd.socket", "/run/snapd-snap.socket"].map(
            overlap("is snapd's socket: as root in the container, it installs snaps on the host"),
        ),
        overlap("holds snapd's state (the store login) and the snaps the host runs")("/var/lib/snapd"),

        // --- Shell startup files: code, and often tokens.
        ...inHomes(
            ".profile",
            ".bashrc",
            ".bash_profile",
            ".bash_login",
            ".bash_logout",
            ".zshrc",
            ".zshenv",
            ".zprofile",
            ".zlogin",
            ".zlogout",
            ".config/fish",
            ".config/zsh",
            ".zsh",
            ".bashrc.d",
            ".oh-my-zsh",
            ".xprofile",
            ".xinitrc",
            ".xsession",
            ".xsessionrc",
            ".pam_environment",
        ).map(overlap(SHELL)),

        // --- Credentials, refused even read-only.
        overlap("is root's home on a Mac (keys and credentials)")("/var/root"),
        overlap("holds the Mac's user accounts and password hashes")("/var/db/dslocal"),
        ...["/Library/Keychains", ...inMacHomes("Library/Keychains")].map(
            overlap("holds the Mac's keychains (saved passwords and private keys)"),
        ),
        ...inHomes(".aws", ".config/gcloud", ".azure", ".oci", ".config/doctl").map(overlap(CLOUD)),
        ...inHomes(".kube").map(overlap("holds Kubernetes credentials")),
        ...inHomes(".docker").map(
            overlap(
                "holds registry logins (config.json) and Docker Desktop's sockets, which give control of the container engine",
            ),
        ),
        ...inHomes(".gnupg").map(overlap("holds GnuPG's private keys")),
        ...inHomes(".password-store").map(overlap("is a password store (pass)")),
        ...inHomes(".local/share/keyrings").map(overlap("is the desktop's keyring (saved passwords)")),
        ...inHomes(".config/op", ".op").map(overlap("holds the 1Password CLI's settings and sessions")),
        ...inHomes(".netrc", ".git-credentials", ".config/git/credentials").map(
            overlap("holds passwords for remote hosts"),
        ),
        ...inHomes(".config/gh").map(overlap("holds the GitHub CLI's token")),
        ...inHomes(".gitconfig", ".config/git/config").map(
            overlap(
                "is git's configuration, whose hooks and fsmonitor commands run on every git command (a prompt that shows the branch runs one at every line)",
            ),
        ),
        ...inHomes(".npmrc", ".pypirc", ".gem/credentials", ".cargo/credentials", ".cargo/credentials.toml").map(
            overlap("holds a package registry's publish token"),
        ),
        ...inHomes(".terraform.d", ".vault-token").map(overlap("holds infrastructure tokens (Terraform, Vault)")),
        ...inHomes(".cloudflared").map(
            overlap("holds cloudflared's origin certificate (the Cloudflare account's tunnels and DNS)"),
        ),
        ...inHomes(".config/sops").map(overlap("holds SOPS's age keys")),
        ...[...inHomes(".wrangler", ".config/.wrangler"), ...inMacHomes("Library/Preferences/.wrangler")].map(
            overlap("holds wrangler's Cloudflare login (the account's Workers, DNS and more)"),
        ),
        // Browser profiles: session cookies (the Cloudflare dashboard's too) and saved passwords.
        ...[
            ...inHomes(
                ".mozilla",
                "snap/firefox",
                ".config/google-chrome",
                ".config/chromium",
                ".config/BraveSoftware",
                ".config/microsoft-edge",
                ".config/vivaldi",
                ".var/app/org.mozilla.firefox",
                ".var/app/com.google.Chrome",
                ".var/app/org.chromium.Chromium",
                ".var/app/com.brave.Browser",
            ),
            ...inMacHomes(
                "Library/Application Support/Google/Chrome",
                "Library/Application Support/Chromium",
                "Library/Application Support/Firefox",
                "Library/Application Support/BraveSoftware",
                "Library/Application Support/Microsoft Edge",
                "Library/Application Support/Arc",
                "Library/Safari",
                "Library/Cookies",
            ),
        ].map(
            overlap("is a browser's profile: its session cookies (the Cloudflare dashboard's too) and saved passwords"),
        ),
        // Agents' sockets: whoever reaches one signs or decrypts with the user's keys, or types
        // into the user's session.
        ...[
            "/run/user/*/gnupg",
            "/run/user/*/keyring",
            "/run/user/*/gcr",
            "/run/user/*/ssh-agent.socket",
            "/tmp/ssh-*",
            "/tmp/com.apple.launchd.*",
        ].map(overlap("holds an SSH or GnuPG agent's socket: whoever reaches it signs with the user's keys")),
        ...inMacHomes("Library/Group Containers/*.com.1password").map(
            overlap("holds 1Password's data and its SSH agent's socket"),
        ),
        overlap("holds the X server's socket: whoever reaches it types into the user's session")("/tmp/.X11-unix"),

        // --- Code the host runs by itself: below these, read-only only (reading them gives
        // away no secret; writing one is running code at the next login, boot or upgrade).
        ...inMacHomes("Library/LaunchAgents").map(readOnly("holds the agents launchd starts at the user's login")),
        ...inMacHomes("Library/Application Support/com.apple.backgroundtaskmanagementagent").map(
            readOnly("holds the user's login items (what the Mac starts at login)"),
        ),
        readOnly("holds the agents launchd starts in every user's session")("/Library/LaunchAgents"),
        readOnly("holds the daemons launchd starts as root at boot")("/Library/LaunchDaemons"),
        readOnly("holds what the Mac starts at boot")("/Library/StartupItems"),
        readOnly("holds the Mac's cron and at jobs")("/var/at"),
        readOnly("holds the Mac's system databases (login items, user accounts)")("/var/db"),
        ...inHomes(".config/systemd", ".local/share/systemd").map(
            readOnly(
                "holds the user's systemd units and timers (started in the user's session, and at boot when lingering)",
            ),
        ),
        ...inHomes(".config/autostart").map(
            readOnly("holds the programs the desktop session starts at login (XDG autostart)"),
        ),
        ...inHomes(".config/environment.d").map(
            readOnly("sets the environment of the user's services (LD_PRELOAD runs code in each)"),
        ),
        ...inHomes(".config/plasma-workspace").map(readOnly("holds the scripts KDE runs at login")),
        ...inHomes(".local/bin", "bin").map(
            readOnly("is on the user's PATH, so a program written there runs in place of the one the user meant"),
        ),
        ...[...inHomes(".local/lib"), ...inMacHomes("Library/Python")].map(
            readOnly("holds Python's user site-packages, whose .pth files run at every start of the user's python"),
        ),
        ...inHomes(".config/docker").map(
            readOnly("holds rootless Docker's daemon.json (the runtimes it starts as the user)"),
        ),
        readOnly("holds the scripts dpkg runs as root at every upgrade")("/var/lib/dpkg"),
        readOnly("holds the package database, whose scripts rpm runs as root at every upgrade")("/var/lib/rpm"),

        // --- Package manager prefixes and toolchains: their programs run as the user or root.
        readOnly(
            "is Homebrew's prefix on an Apple silicon Mac, whose haproxy the native edge runs (and launchd its services)",
        )("/opt/homebrew"),
        readOnly(
            "is Homebrew's prefix on an Intel Mac (the native edge runs its haproxy) and holds locally built programs",
        )("/usr/local"),
        ...["/home/linuxbrew/.linuxbrew", ...inHomes(".linuxbrew")].map(
            readOnly("is Homebrew's prefix on Linux, whose programs run as the user"),
        ),
        readOnly("is MacPorts' prefix, whose programs run as the user and as root")("/opt/local"),
        readOnly("is Nix's store and profiles, whose programs run as the user and as root")("/nix"),
        readOnly("holds the snaps the host runs")("/snap"),
        ...["/var/lib/flatpak", ...inHomes(".local/share/flatpak")].map(
            readOnly("holds the Flatpak apps the host runs"),
        ),
        ...["/Applications", ...inMacHomes("Applications")].map(
            readOnly("holds the Mac's apps, and a program written there runs the next time the app is opened"),
        ),
        ...inHomes(
            ".nvm",
            ".pyenv",
            ".rbenv",
            ".rustup",
            ".cargo/bin",
            "go/bin",
            ".asdf",
            ".volta",
            ".bun",
            ".deno",
            ".sdkman",
            ".local/share/mise",
            ".local/share/fnm",
            ".local/share/pnpm",
        ).map(readOnly(TOOLCHAIN)),

        // --- System folders: below them, read-only only.
        ...[
            "/etc",
            "/usr",
            "/bin",
            "/sbin",
            "/lib",
            "/lib32",
            "/lib64",
            "/libx32",
            "/boot",
            "/sys",
            "/var/spool",
            "/System",
            "/Library",
        ].map((p) => readOnly(SYSTEM_WHY[p] ?? SYSTEM)(p)),
    ];
}

/** The rules for a stack: protectedPathRules and the stack's own state and keys. */
export function hostPathRules(dataDir: string, dockerSocket?: string): HostPathRule[] {
    const overlap = (pattern: string, why: string): HostPathRule => ({ pattern, scope: "overlap", why });
    return [
        ...protectedPathRules(dockerSocket),
        overlap(`${dataDir}/caddy`, "holds Caddy's certificates, ACME account key and config"),
        overlap(`${dataDir}/haproxy`, "holds the edge's configuration"),
        overlap(`${dataDir}/edge`, "holds the edge's key"),
        overlap(`${dataDir}/gateway`, "holds a further host's gateway key and config (homelab:hosts)"),
        overlap(
            `${dataDir}/monitoring`,
            "is reserved for the status container (homelab:monitoring: its key, a client certificate on the allowlist, its config and names; the stack makes the folder hold exactly those files)",
        ),
        overlap(
            `${dataDir}/dashboard`,
            "is reserved for the dashboard's config (homelab:dashboard; the stack makes the folder hold exactly that file)",
        ),
        overlap(
            `${dataDir}/cloudflared`,
            "holds the CA certificates cloudflared trusts for public upstreams (a certificate written there would let a container pass for one)",
        ),
    ];
}

/** Path segments as the host sees them (see the header). */
export function pathSegments(p: string, mac: boolean): string[] {
    let s = p;
    if (mac) {
        s = s.normalize("NFKC").toLowerCase();
        s = s.replace(/^\/volumes\/macintosh hd(?=\/|$)/, "") || "/";
        s = s.replace(/^\/system\/volumes\/data(?=\/|$)/, "") || "/";
        s = s.replace(/^\/private(?=\/(var|etc|tmp)(\/|$))/, "");
    }
    s = s.replace(/^\/var\/run(?=\/|$)/, "/run");
    return s.split("/").filter((x) => x !== "");
}

/** Whether one path segment matches one pattern segment (`*` alone: any; inside: any characters). */
export function segmentMatches(segment: string, pattern: string): boolean {
    if (pattern === "*") return true;
    if (!pattern.includes("*")) return pattern === segment;
    const re = new RegExp(
        `^${pattern
            .split("*")
            .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
            .join(".*")}$`,
    );
    return re.test(segment);
}

function segmentsMatch(path: string[], pattern: string[], n: number): boolean {
    for (let i = 0; i < n; i++) if (!segmentMatches(path[i] as string, pattern[i] as string)) return false;
    return true;
}

/** Whether mounting `src` (read-only or not) is refused by `rule`. */
export function ruleHits(src: string, rule: HostPathRule, runtime: Runtime, readOnlyMount = false): boolean {
    const mac = runtime !== "linux";
    const s = pathSegments(src, mac);
    const p = pathSegments(rule.pattern, mac);
    const parentOrSelf = s.length <= p.length && segmentsMatch(s, p, s.length);
    const inside = s.length > p.length && segmentsMatch(s, p, p.length);
    if (rule.scope === "whole") return parentOrSelf;
    if (rule.scope === "readOnly") return parentOrSelf || (inside && !readOnlyMount);
    return parentOrSelf || inside;
}

/**
 * The protected path a bind-mount source exposes, as a message; undefined when none. The rule the
 * source is at or below is named before one it is a parent of (mounting /usr is refused as /usr,
 * not as the WireGuard keys in /usr/local/etc); among those, the first in the list.
 */
export function protectedMountProblem(
    src: string,
    rules: HostPathRule[],
    runtime: Runtime,
    readOnlyMount = false,
): string | undefined {
    const mac = runtime !== "linux";
    const depth = pathSegments(src, mac).length;
    const hits = rules.filter((r) => ruleHits(src, r, runtime, readOnlyMount));
    const hit = hits.find((r) => depth >= pathSegments(r.pattern, mac).length) ?? hits[0];
    if (!hit) return undefined;
    const what = hit.pattern === "/" ? "the host's /" : hit.pattern;
    const below = depth > pathSegments(hit.pattern, mac).length;
    if (hit.scope === "readOnly" && below)
        return `mounts ${src} writable; ${hit.pattern} ${hit.why}: below it, mount read-only (:ro)`;
    return hit.scope === "overlap"
        ? `mounts ${what} or a folder around it, which ${hit.why}`
        : `mounts ${what}, which ${hit.why}`;
}

// --- homelab:docker.dataDir

/**
 * Folders the OS, a cleaner or a sync client empties or moves away. Caddy's certificates and ACME
 * account, and the edge's config and key, live in the data folder: without them after a reboot
 * the edge has no config and Caddy has to ask for every certificate again (and may hit rate limits).
 */
const NOT_DURABLE: { pattern: string; why: string }[] = [
    {
        pattern: "/tmp",
        why: "is emptied at boot and of files untouched for days (systemd-tmpfiles, macOS's daily clean-up)",
    },
    {
        pattern: "/var/tmp",
        why: "is cleaned of files untouched for 30 days (systemd-tmpfiles), and Caddy renews a certificate only every 60",
    },
    { pattern: "/var/folders", why: "is macOS's per-user temporary and cache area, which the system purges" },
    { pattern: "/run", why: "is a tmpfs, emptied at every boot" },
    { pattern: "/dev", why: "is the kernel's device file system (and /dev/shm is memory), emptied at every boot" },
    { pattern: "/proc", why: "is the kernel's view of processes, not a folder on disk" },
    { pattern: "/sys", why: "is the kernel's control surface, not a folder on disk" },
    { pattern: "/var/cache", why: "is a cache that package managers and cleaners empty" },
    ...inHomes(".cache").map((pattern) => ({
        pattern,
        why: "is the user's cache (XDG): cleaners and the user empty it",
    })),
    ...["/Library/Caches", ...inMacHomes("Library/Caches")].map((pattern) => ({
        pattern,
        why: "is a cache macOS purges when the disk runs low",
    })),
    ...inHomes(".Trash", ".local/share/Trash").map((pattern) => ({
        pattern,
        why: "is the Trash, emptied by the user or after 30 days",
    })),
    ...inMacHomes("Library/Mobile Documents").map((pattern) => ({
        pattern,
        why: "is iCloud Drive: macOS evicts files to the cloud when space runs low, and copies Caddy's keys off the host",
    })),
    ...inMacHomes("Library/CloudStorage").map((pattern) => ({
        pattern,
        why: "holds cloud drives (Dropbox, Google Drive, OneDrive): files are evicted to the cloud, and Caddy's keys copied off the host",
    })),
];

/**
 * Where homelab:docker.dataDir may not be: in a folder the OS empties (a temp folder, a cache, the
 * Trash, a cloud drive), or at or below a protected path (a system folder, another engine's data,
 * Homebrew's prefix, the tailnet's state, a credentials folder), or a whole home folder. Below a
 * home or /Volumes/<disk> is fine. Same path semantics as the mount rules (aliases, letter case).
 */
export function dataDirProblem(dataDir: string, runtime: Runtime, dockerSocket?: string): string | undefined {
    const mac = runtime !== "linux";
    const s = pathSegments(dataDir, mac);
    const atOrBelow = (pattern: string) => {
        const p = pathSegments(pattern, mac);
        return s.length >= p.length && segmentsMatch(s, p, p.length);
    };
    const durable =
        "choose a folder of its own on a disk that keeps it, such as /Users/<you>/selfhost, /srv/homelab or /Volumes/<disk>/homelab";
    const temp = NOT_DURABLE.find((r) => atOrBelow(r.pattern));
    if (temp)
        return `${dataDir} is in ${temp.pattern}, which ${temp.why}: after a reboot or a clean-up the edge would have no config, and Caddy's certificates and ACME account would be gone; ${durable}`;
    const hit = protectedPathRules(dockerSocket).find((r) =>
        r.scope === "whole"
            ? s.length === pathSegments(r.pattern, mac).length && atOrBelow(r.pattern)
            : atOrBelow(r.pattern),
    );
    if (!hit) return undefined;
    const what = hit.pattern === "/" ? "the host's /" : hit.pattern;
    if (hit.scope === "whole")
        return `${dataDir} is ${what}, which ${hit.why.replace(/; mount the folder you need$/, "")}: ${durable}`;
    return `${dataDir} is in ${what}, which ${hit.why}: Caddy's keys and the edge's config do not belong there; ${durable}`;
}
