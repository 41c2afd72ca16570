// The plan (components/dockerPlan.ts) on a real engine: every NetworkSpec and ContainerSpec field
// mapped to the Docker Engine API, the way the Pulumi Docker provider maps components/containers.ts
// containerArgs (binds for mounts, so missing host directories are created; the plan's log driver;
// the first network at create time and the others connected before the container starts).
//
// The Engine API rather than `docker create` flags, because the CLI cannot say two things the plan
// says: an exec-form healthcheck (`--health-cmd` always makes ["CMD-SHELL", ...], the plan gives
// ["CMD", ...]), and several networks with aliases and fixed addresses at create time (Docker 20.10
// accepts one network on create). `cliEquivalent` renders the same container as `docker create`
// flags for reading (and records where it would differ).
//
// The mapping is pure (networkCreateBody, containerCreateBody); applyContainer and friends run it.
import { CADDY_IMAGE_NAME } from "../../plan/docker";
import { ContainerSpec, DockerPlan, NetworkKey, NetworkSpec, SecretRef, LOG_DRIVER } from "../../plan/docker";
import { parseDuration } from "../../stacks/grammar";
import { Engine } from "./engine";

/** Values for secret environment references (dummy ones in the tests). */
export type SecretValue = (ref: SecretRef) => string;

export function dummySecret(ref: SecretRef): string {
    switch (ref.kind) {
        case "dnsToken":
            // caddy-dns/cloudflare checks the shape when it is used (it is not: certificates are local).
            return "dummy0token0for0validation0only0abcdefgh";
        case "tunnelToken":
            return "dummy-tunnel-token";
        case "ddnsToken":
            return "dummy-ddns-token";
        case "stackSecret":
            return `dummy-secret-${ref.key}`;
    }
}

/** The image a spec runs: the local Caddy build, or the registry ref (tagged locally in the tests). */
export function imageOf(spec: ContainerSpec): string {
    return spec.image.kind === "caddy" ? CADDY_IMAGE_NAME : spec.image.ref;
}

function ns(duration: string, what: string): number {
    const v = parseDuration(duration);
    if (v === undefined) throw new Error(`${what}: "${duration}" is not a duration`);
    return Number(v);
}

export function networkCreateBody(n: NetworkSpec): Record<string, unknown> {
    const gateway = n.gateway;
    return {
        Name: n.name,
        CheckDuplicate: true,
        Driver: "bridge",
        IPAM: {
            Driver: "default",
            Config: [
                {
                    Subnet: n.subnet,
                    ...(n.ipRange ? { IPRange: n.ipRange } : {}),
                    ...(gateway ? { Gateway: gateway } : {}),
                },
                ...(n.ipv6 ? [{ Subnet: n.ipv6.subnet, IPRange: n.ipv6.ipRange, Gateway: n.ipv6.gateway }] : []),
            ],
        },
        ...(n.ipv6 ? { EnableIPv6: true } : {}),
        Labels: { "homelab.network": n.key },
    };
}

/** Secret env as the component builds it: plain entries plus `KEY=value` secrets, sorted. */
export function containerEnv(spec: ContainerSpec, secret: SecretValue): string[] {
    const refs = Object.entries(spec.secretEnv);
    if (refs.length === 0) return [...spec.env];
    return [...spec.env, ...refs.map(([k, ref]) => `${k}=${secret(ref)}`)].sort();
}

export interface EndpointSettings {
    Aliases: string[];
    IPAMConfig?: { IPv4Address?: string; IPv6Address?: string };
}

export interface ContainerCreate {
    name: string;
    body: Record<string, any>;
    /** Networks joined after create, before start: network name → endpoint settings. */
    connect: { network: string; endpoint: EndpointSettings }[];
}

function endpoint(n: ContainerSpec["networks"][number]): EndpointSettings {
    const ipam = {
        ...(n.ipv4Address ? { IPv4Address: n.ipv4Address } : {}),
        ...(n.ipv6Address ? { IPv6Address: n.ipv6Address } : {}),
    };
    return { Aliases: [...n.aliases], ...(Object.keys(ipam).length > 0 ? { IPAMConfig: ipam } : {}) };
}

/** One planned container → the create request (and the networks to connect before start). */
export function containerCreateBody(spec: ContainerSpec, secret: SecretValue, image = imageOf(spec)): ContainerCreate {
    const [first, ...rest] = spec.networks;
    if (!first) throw new Error(`${spec.name} joins no network`);
    const portKey = (p: ContainerSpec["ports"][number]) => `${p.internal}/${p.protocol}`;
    const portBindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
    for (const p of spec.ports) (portBindings[portKey(p)] ??= []).push({ HostIp: p.ip, HostPort: String(p.external) });
    const hc = spec.healthcheck;
    const body: Record<string, any> = {
        Image: image,
        ...(spec.command ? { Cmd: [...spec.command] } : {}),
        ...(spec.entrypoint ? { Entrypoint: [...spec.entrypoint] } : {}),
        ...(spec.workingDir ? { WorkingDir: spec.workingDir } : {}),
        ...(spec.user !== undefined ? { User: spec.user } : {}),
        ...(spec.stopGraceSeconds !== undefined ? { StopTimeout: spec.stopGraceSeconds } : {}),
        Env: containerEnv(spec, secret),
        ExposedPorts: Object.fromEntries(Object.keys(portBindings).map((k) => [k, {}])),
        ...(hc
            ? {
                  Healthcheck: {
                      Test: [...hc.tests],
                      Interval: ns(hc.interval, `${spec.name} healthcheck interval`),
                      Timeout: ns(hc.timeout, `${spec.name} healthcheck timeout`),
                      Retries: hc.retries,
                      StartPeriod: ns(hc.startPeriod, `${spec.name} healthcheck start period`),
                  },
              }
            : {}),
        Labels: { ...spec.labels, "homelab.role": spec.role },
        HostConfig: {
            Binds: spec.mounts.map((m) => {
                const src = m.hostPath ?? m.volumeName;
                if (!src) throw new Error(`${spec.name}: a mount without a source`);
                return `${src}:${m.containerPath}${m.readOnly ? ":ro" : ":rw"}`;
            }),
            PortBindings: portBindings,
            RestartPolicy: { Name: spec.restart, MaximumRetryCount: 0 },
            LogConfig: { Type: LOG_DRIVER, Config: { ...spec.logOpts } },
            ExtraHosts: spec.hosts.map((h) => `${h.host}:${h.ip}`),
            // As components/containers.ts gives it: swap twice the memory, explicitly.
            ...(spec.memoryMb !== undefined
                ? { Memory: spec.memoryMb * 1024 * 1024, MemorySwap: spec.memoryMb * 2 * 1024 * 1024 }
                : {}),
            ...(spec.shmSizeMb !== undefined ? { ShmSize: spec.shmSizeMb * 1024 * 1024 } : {}),
            ...(spec.devices.length > 0
                ? {
                      Devices: spec.devices.map((d) => ({
                          PathOnHost: d.hostPath,
                          PathInContainer: d.containerPath,
                          CgroupPermissions: d.permissions,
                      })),
                  }
                : {}),
            ...(spec.capAdd.length > 0 ? { CapAdd: [...spec.capAdd] } : {}),
            ...(spec.capDrop ? { CapDrop: [...spec.capDrop] } : {}),
            ...(spec.readOnlyRoot ? { ReadonlyRootfs: true } : {}),
            ...(spec.securityOpts ? { SecurityOpt: [...spec.securityOpts] } : {}),
            ...(Object.keys(spec.tmpfs).length > 0 ? { Tmpfs: { ...spec.tmpfs } } : {}),
            ...(spec.ulimits
                ? { Ulimits: Object.entries(spec.ulimits).map(([Name, l]) => ({ Name, Soft: l.soft, Hard: l.hard })) }
                : {}),
            NetworkMode: first.name,
        },
        NetworkingConfig: { EndpointsConfig: { [first.name]: endpoint(first) } },
    };
    return { name: spec.name, body, connect: rest.map((n) => ({ network: n.name, endpoint: endpoint(n) })) };
}

/** The same container as `docker create` flags, for reading and for the report. */
export function cliEquivalent(
    spec: ContainerSpec,
    secret: SecretValue,
    image = imageOf(spec),
): { args: string[]; differs: string[] } {
    const c = containerCreateBody(spec, secret, image);
    const hc = c.body.Healthcheck;
    const args = ["create", "--name", spec.name];
    for (const e of c.body.Env as string[]) args.push("--env", e);
    if (spec.workingDir) args.push("--workdir", spec.workingDir);
    for (const b of c.body.HostConfig.Binds as string[]) args.push("--volume", b);
    for (const p of spec.ports)
        args.push("--publish", `${p.ip.includes(":") ? `[${p.ip}]` : p.ip}:${p.external}:${p.internal}/${p.protocol}`);
    for (const h of c.body.HostConfig.ExtraHosts as string[]) args.push("--add-host", h);
    args.push("--restart", spec.restart, "--log-driver", LOG_DRIVER);
    for (const [k, v] of Object.entries(spec.logOpts)) args.push("--log-opt", `${k}=${v}`);
    const first = spec.networks[0];
    if (first) {
        args.push("--network", first.name);
        for (const a of first.aliases) args.push("--network-alias", a);
        if (first.ipv4Address) args.push("--ip", first.ipv4Address);
    }
    const differs: string[] = [];
    if (hc) {
        const [kind, ...cmd] = hc.Test as string[];
        args.push(
            "--health-cmd",
            cmd.join(" "),
            "--health-interval",
            spec.healthcheck?.interval ?? "",
            "--health-timeout",
            spec.healthcheck?.timeout ?? "",
        );
        args.push("--health-retries", String(hc.Retries), "--health-start-period", spec.healthcheck?.startPeriod ?? "");
        if (kind === "CMD") differs.push("--health-cmd makes a CMD-SHELL test; the plan's is exec form (CMD)");
    }
    args.push(image, ...(spec.command ?? []));
    if (spec.networks.length > 1)
        differs.push(
            `then: docker network connect for ${spec.networks
                .slice(1)
                .map((n) => n.name)
                .join(", ")} (one network at create on Docker 20.10)`,
        );
    return { args, differs };
}

/** Creates the planned networks that do not exist yet; network key → id. */
export async function applyNetworks(engine: Engine, plan: DockerPlan): Promise<Partial<Record<NetworkKey, string>>> {
    const ids: Partial<Record<NetworkKey, string>> = {};
    for (const n of plan.networks) {
        const existing = await engine.request("GET", `/networks/${encodeURIComponent(n.name)}`);
        if (existing.status === 200) {
            ids[n.key] = JSON.parse(existing.body).Id;
            continue;
        }
        const r = await engine.api<{ Id: string }>("POST", "/networks/create", networkCreateBody(n));
        ids[n.key] = r.Id;
    }
    return ids;
}

/** Creates one planned container (all its networks joined), and starts it unless told not to. */
export async function applyContainer(
    engine: Engine,
    spec: ContainerSpec,
    opts: { secret?: SecretValue; image?: string; start?: boolean } = {},
): Promise<string> {
    const c = containerCreateBody(spec, opts.secret ?? dummySecret, opts.image);
    const created = await engine.api<{ Id: string; Warnings?: string[] }>(
        "POST",
        `/containers/create?name=${encodeURIComponent(c.name)}`,
        c.body,
    );
    for (const n of c.connect)
        await engine.api("POST", `/networks/${encodeURIComponent(n.network)}/connect`, {
            Container: created.Id,
            EndpointConfig: n.endpoint,
        });
    // What the provider's `uploads` do: files in place before the container starts.
    if (spec.uploads.length > 0) {
        const r = await engine.request("PUT", `/containers/${created.Id}/archive?path=/`, tarOf(spec.uploads));
        if (r.status !== 200) throw new Error(`uploading into ${spec.name}: ${r.status} ${r.body}`);
    }
    if (opts.start !== false) await engine.api("POST", `/containers/${created.Id}/start`);
    return created.Id;
}

export async function removeContainer(engine: Engine, name: string): Promise<void> {
    const r = await engine.request("DELETE", `/containers/${encodeURIComponent(name)}?force=true`);
    if (r.status !== 204 && r.status !== 404) throw new Error(`removing ${name}: ${r.status} ${r.body}`);
}

export async function inspectContainer(engine: Engine, name: string): Promise<any> {
    return engine.api("GET", `/containers/${encodeURIComponent(name)}/json`);
}

export async function inspectNetwork(engine: Engine, name: string): Promise<any> {
    return engine.api("GET", `/networks/${encodeURIComponent(name)}`);
}

/** A ustar archive of text files (with their parent directories), for the Engine API's archive upload. */
export function tarOf(files: { file: string; content: string }[]): Buffer {
    const blocks: Buffer[] = [];
    const header = (name: string, size: number, type: "0" | "5", mode: number) => {
        const h = Buffer.alloc(512);
        h.write(name, 0, 100);
        h.write(mode.toString(8).padStart(7, "0") + "\0", 100);
        h.write("0000000\0", 108);
        h.write("0000000\0", 116);
        h.write(size.toString(8).padStart(11, "0") + "\0", 124);
        h.write(
            Math.floor(Date.now() / 1000)
                .toString(8)
                .padStart(11, "0") + "\0",
            136,
        );
        h.write("        ", 148);
        h.write(type, 156);
        h.write("ustar\0" + "00", 257);
        let sum = 0;
        for (const b of h) sum += b;
        h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148);
        return h;
    };
    const dirs = new Set<string>();
    for (const f of files) {
        const parts = f.file.replace(/^\//, "").split("/").slice(0, -1);
        for (let i = 1; i <= parts.length; i++) {
            const d = `${parts.slice(0, i).join("/")}/`;
            if (dirs.has(d)) continue;
            dirs.add(d);
            blocks.push(header(d, 0, "5", 0o755));
        }
        const data = Buffer.from(f.content);
        blocks.push(
            header(f.file.replace(/^\//, ""), data.length, "0", 0o644),
            data,
            Buffer.alloc((512 - (data.length % 512)) % 512),
        );
    }
    blocks.push(Buffer.alloc(1024));
    return Buffer.concat(blocks);
}
