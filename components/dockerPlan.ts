// Pure pieces of the Docker host plan: names, published ports, volumes, env and healthchecks.
// Kept apart from the component so they are tested without Pulumi.
import { ManagedService, Model, Runtime } from "../stacks/model";
import versions from "../render/versions.json";

/** The locally built Caddy image, tagged by the versions it pins. */
export const CADDY_IMAGE_NAME = `homelab-caddy:${versions.caddy}-cloudflare-${versions.caddyDnsCloudflare}`;
/** HAProxy's config directory under homelab:docker.dataDir, bind-mounted read-only. */
export const HAPROXY_CONFIG_DIR = "haproxy";
/** The host port a router forwards the WAN to when it speaks PROXY protocol (homelab:wan.proxyProtocol). */
export const WAN_PROXY_PORT = 4443;

export interface PortBinding {
    internal: number;
    external: number;
    ip: string;
    protocol: "tcp";
}

/** Runtimes where containers cannot resolve host.docker.internal on their own. */
export function needsHostGateway(runtime: Runtime): boolean {
    return runtime === "linux" || runtime === "colima";
}

/**
 * HAProxy's published ports: the only ports the stack publishes.
 * - No mtls service: nothing to split, so :80/:443 bind only to the tailnet address(es) and the
 *   listed addresses: never 0.0.0.0.
 * - mtls on a runtime that keeps client addresses: :80/:443 on every address (the router forwards
 *   the WAN here) and HAProxy splits by source.
 * - mtls behind a PROXY-protocol forwarder: :80/:443 stay on the tailnet/listed addresses (direct,
 *   trusted), and the WAN arrives on :4443 on every address, with real addresses in the header.
 */
export function publishedPorts(model: Model): PortBinding[] {
    const mtls = model.services.some((s) => s.expose.includes("mtls"));
    const direct = [model.tailnet.ipv4, ...(model.tailnet.ipv6 ? [model.tailnet.ipv6] : []), ...model.listenAddresses];
    const everywhere = ["0.0.0.0", "::"];
    const bind = (port: number, ips: string[], external = port): PortBinding[] => ips.map((ip) => ({ internal: port, external, ip, protocol: "tcp" }));
    if (!mtls) return [...bind(80, direct), ...bind(443, direct)];
    if (!model.wan?.proxyProtocol) return [...bind(80, everywhere), ...bind(443, everywhere)];
    return [...bind(80, direct), ...bind(443, direct), ...bind(WAN_PROXY_PORT, everywhere)];
}

export interface VolumeSpec {
    hostPath?: string;
    volumeName?: string;
    containerPath: string;
    readOnly: boolean;
}

/** `src:dst[:ro|rw]` → docker provider volume; `src` is a host path or a named volume. */
export function serviceVolumes(s: ManagedService): VolumeSpec[] {
    return s.volumes.map((v) => {
        const [src = "", dst = "", mode] = v.split(":");
        const base = { containerPath: dst, readOnly: mode === "ro" };
        return src.startsWith("/") ? { hostPath: src, ...base } : { volumeName: src, ...base };
    });
}

export interface ContainerPlan {
    /** Non-secret environment, sorted: `KEY=value`. */
    envs: string[];
    healthcheck?: { tests: string[]; interval: string; timeout: string; retries: number; startPeriod: string };
}

export function containerPlan(s: ManagedService): ContainerPlan {
    const envs = Object.keys(s.env)
        .sort()
        .map((k) => `${k}=${s.env[k]}`);
    const hc = s.healthcheck;
    return {
        envs,
        ...(hc ? { healthcheck: { tests: hc.test, interval: hc.interval, timeout: hc.timeout, retries: hc.retries, startPeriod: hc.startPeriod } } : {}),
    };
}
