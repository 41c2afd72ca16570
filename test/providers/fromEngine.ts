// The Docker provider's read functions, applied to what a real dockerd reports (`docker inspect`):
// the state the next `pulumi up` would compare the program's inputs with. Only the inputs the
// provider reads back from the engine are computed; the rest it keeps as written (docker.json).
// Transcribed from kreuzwerker/terraform-provider-docker v4.5.0 (resource_docker_container_funcs.go
// resourceDockerContainerRead, resource_docker_container_structures.go flattenContainerPorts,
// resource_docker_network_structures.go flattenIpamConfigSpec).
import { goDurationString } from "../../stacks/grammar";

const MIB = 1024 * 1024;

/** flattenContainerPorts: keys sorted by port number (stable here: the engine's JSON order for ties). */
function ports(
    bindings: Record<string, { HostIp: string; HostPort: string }[] | null> | null,
): { internal: number; external: number; ip: string; protocol: string }[] {
    const keys = Object.keys(bindings ?? {}).sort((a, b) => Number(a.split("/")[0]) - Number(b.split("/")[0]));
    return keys.flatMap((k) =>
        ((bindings ?? {})[k] ?? []).map((b) => ({
            internal: Number(k.split("/")[0]),
            external: Number(b.HostPort),
            ip: b.HostIp,
            protocol: k.split("/")[1] as string,
        })),
    );
}

/** The read-back of a container, for the inputs the provider reads from the engine. */
export function containerReadBack(info: any, inputs: Record<string, any>): Record<string, any> {
    const hc = info.Config.Healthcheck;
    const host = info.HostConfig;
    return {
        // Only when ports are configured (funcs.go L800-L806).
        ...(inputs.ports ? { ports: ports(info.NetworkSettings.Ports) } : {}),
        ...(host.Memory > 0 ? { memory: host.Memory / MIB } : {}),
        // MemorySwap/1MiB when > 0, else the raw value (funcs.go L940-L944).
        ...(host.Memory > 0 ? { memorySwap: host.MemorySwap > 0 ? host.MemorySwap / MIB : host.MemorySwap } : {}),
        ...(hc
            ? {
                  healthcheck: {
                      tests: hc.Test,
                      interval: goDurationString(BigInt(hc.Interval ?? 0)),
                      timeout: goDurationString(BigInt(hc.Timeout ?? 0)),
                      startPeriod: goDurationString(BigInt(hc.StartPeriod ?? 0)),
                      retries: hc.Retries,
                  },
              }
            : {}),
        logDriver: host.LogConfig.Type,
        // Only when log options are configured (funcs.go L983-L989).
        ...(inputs.logOpts ? { logOpts: host.LogConfig.Config } : {}),
    };
}

/** The inputs a container read-back is compared on. */
export function readBackInputs(inputs: Record<string, any>): Record<string, any> {
    const keys = ["ports", "memory", "memorySwap", "healthcheck", "logDriver", "logOpts"];
    return Object.fromEntries(keys.filter((k) => inputs[k] !== undefined).map((k) => [k, inputs[k]]));
}

/** flattenIpamConfigSpec: each IPAM config with its non-empty fields. */
export function networkReadBack(info: any): Record<string, any> {
    return {
        ipamConfigs: (info.IPAM.Config as Record<string, any>[]).map((c) => ({
            ...(c.Subnet ? { subnet: c.Subnet } : {}),
            ...(c.IPRange ? { ipRange: c.IPRange } : {}),
            ...(c.Gateway ? { gateway: c.Gateway } : {}),
            ...(c.AuxiliaryAddresses && Object.keys(c.AuxiliaryAddresses).length > 0
                ? { auxAddress: c.AuxiliaryAddresses }
                : {}),
        })),
    };
}
