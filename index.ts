// homelab: one stack for a self-hosted homelab. Read top to bottom: config, first contact with the
// zone, components, outputs. The program is an async function: it looks at the zone before it
// registers anything, so a first `pulumi up` over hand-made records stops before creating a thing.
import * as pulumi from "@pulumi/pulumi";
import * as cloudflare from "@pulumi/cloudflare";
import * as docker from "@pulumi/docker";
import { loadConfig } from "./stacks/config";
import { edgeHostView, hostOf, servicesOn } from "./stacks/model";
import { managedComment, serviceUrls, tunnelName } from "./stacks/naming";
import { firstContact } from "./stacks/firstContact";
import { ZoneConflictError, zoneRecords } from "./stacks/zone";
import { PrivateDns } from "./components/privateDns";
import { DnsToken } from "./components/dnsToken";
import { Tunnel } from "./components/tunnel";
import { AccessApp } from "./components/accessApp";
import { ClientCa } from "./components/clientCa";
import { EdgeKey } from "./components/edgeKey";
import { DockerHost } from "./components/dockerHost";
import { Edge } from "./components/edge";
import { needsDdns } from "./plan/docker";
import { HostPart, assemble } from "./plan/assemble";
import { formerChild } from "./components/aliases";
import { HostsTls } from "./components/hostsTls";
import { Gateway } from "./components/gateway";
import { AccessApp as AccessAppType } from "./components/accessApp";
import { MONITOR_IDENTITY } from "./components/clientCa";
import { Dashboard, Monitoring } from "./components/monitoring";
import { MONITOR_KEY, clientCertificateList, monitoringSummary, watchedCertificates } from "./components/watch";

export = async () => {
    // 1. Config: every homelab:* key, validated at once; nothing is registered if any is wrong.
    const { model, secrets, cloudflareToken } = loadConfig();
    const stack = pulumi.getStack();
    const project = pulumi.getProject();
    const comment = managedComment(project, stack);

    // 2. First contact: records at the stack's names that it did not create stop the run here,
    //    each listed with what to do; records listed in homelab:adopt are taken over in place.
    const contact = firstContact(model, await zoneRecords(model), { project, stack, adopt: model.adopt });
    if (contact.conflicts.length > 0 || contact.adoptProblems.length > 0)
        throw new ZoneConflictError(contact, model.adopt);
    for (const s of contact.staleAdopt) void pulumi.log.warn(`${s.key}: ${s.message}`);

    // 3. The rendered files and the container plan, once; each component gets its part.
    const plan = assemble(model, { stack, comment });

    // 4. Components. Providers are explicit and passed through each component's options.
    const cf = new cloudflare.Provider("cloudflare", { apiToken: cloudflareToken });
    const engine = new docker.Provider(
        "docker-engine",
        { host: model.docker.host },
        { aliases: [formerChild("homelab:docker:DockerHost", "docker", "docker-engine")] },
    );
    const onCloudflare = { providers: [cf] };

    // Cloudflare: private DNS, the DNS-01 token, and the tunnel with Access for public services.
    new PrivateDns("private-dns", { model, comment, imports: contact.imports }, onCloudflare);
    const dnsToken = new DnsToken(
        "dns01",
        {
            model,
            stack,
            purpose: "DNS-01",
            allowedIps: model.dnsToken.allowedIps,
            ...(model.dnsToken.expiresOn ? { expiresOn: model.dnsToken.expiresOn } : {}),
        },
        onCloudflare,
    );
    const ddnsToken = needsDdns(model)
        ? new DnsToken("ddns", { model, stack, purpose: "DDNS", allowedIps: [] }, onCloudflare)
        : undefined;
    const accessApps = new Map<string, AccessAppType>();
    for (const s of servicesOn(model, "public"))
        if (s.access)
            accessApps.set(
                s.name,
                new AccessApp(
                    `access-${s.name}`,
                    {
                        accountId: model.accountId,
                        hostname: s.hostnames.public as string,
                        serviceName: s.name,
                        access: s.access,
                    },
                    onCloudflare,
                ),
            );
    // One tunnel per host with public services: Cloudflare spreads a tunnel's requests over all its
    // connectors, so a tunnel whose connectors sat on two hosts would send requests to a host
    // without the service. Routes wait for the Access applications of their own services.
    const tunnelFor = (name: string, hostName: string | undefined, part: typeof plan.tunnel) => {
        const view = hostName
            ? { ...model, services: model.services.filter((s) => hostOf(s) === hostName) }
            : edgeHostView(model);
        return new Tunnel(
            name,
            {
                model: view,
                part,
                tunnelName: hostName ? `${tunnelName(project, stack)}-${hostName}` : tunnelName(project, stack),
                comment,
                imports: contact.imports,
                apiToken: cloudflareToken,
                routesAfter: servicesOn(view, "public").flatMap((s) => accessApps.get(s.name) ?? []),
                recordPrefix: "tunnel",
            },
            onCloudflare,
        );
    };
    const tunnel =
        servicesOn(edgeHostView(model), "public").length > 0 ? tunnelFor("tunnel", undefined, plan.tunnel) : undefined;

    // The private client CA: one certificate and .p12 per user (and the status container's own).
    const ca = new ClientCa("client-ca", {
        users: model.users,
        stackName: stack,
        ...(model.monitoring ? { monitor: { validityDays: MONITOR_IDENTITY.validityDays } } : {}),
    });
    const allowlist = ca.monitor
        ? pulumi.all([ca.clientCertificates, ca.monitor.certificate]).apply(([c, m]) => ({ ...c, [MONITOR_KEY]: m }))
        : ca.clientCertificates;

    // Further hosts: a CA of their own for Caddy's way to their gateways (never the users').
    const gatewayHosts = plan.hosts.filter((h) => h.gateway).map((h) => h.name);
    const hostsTls =
        gatewayHosts.length > 0 ? new HostsTls("hosts-tls", { stackName: stack, hosts: gatewayHosts }) : undefined;

    // Monitoring (opt-in): the status container's files (config, names, the monitor's certificate) and the dashboard's.
    const monitoring =
        plan.monitoring && ca.monitor
            ? new Monitoring(
                  "monitoring",
                  {
                      part: plan.monitoring,
                      certificate: ca.monitor.certificate,
                      key: ca.monitor.key,
                      certificates: watchedCertificates(ca, model, hostsTls),
                  },
                  { providers: [engine] },
              )
            : undefined;
    const dashboard = plan.dashboard
        ? new Dashboard("dashboard", { part: plan.dashboard }, { providers: [engine] })
        : undefined;

    // The Docker host: networks, Caddy, cloudflared, the DDNS updater and the services.
    const host = new DockerHost(
        "docker",
        {
            part: plan.dockerHost,
            dnsToken: dnsToken.value,
            ...(tunnel ? { tunnelToken: tunnel.token, tunnelCleanup: tunnel.connectionsCleanup } : {}),
            ...(ddnsToken ? { ddnsToken: ddnsToken.value } : {}),
            caCertificate: ca.caCertificate,
            clientCertificates: allowlist,
            serviceDependsOn: {
                ...(monitoring && model.monitoring ? { [model.monitoring.service]: [monitoring.files] } : {}),
                ...(dashboard && model.dashboard ? { [model.dashboard.service]: [dashboard.files] } : {}),
            },
            secrets,
            ...(hostsTls ? { hostsTls } : {}),
        },
        { providers: [engine] },
    );

    // Further hosts: each its own engine, networks, services, gateway and (with public services) tunnel.
    const hostContainers = Object.fromEntries(
        plan.hosts.map((h) => {
            const hostTunnel = h.tunnel ? tunnelFor(`tunnel-${h.name}`, h.name, h.tunnel) : undefined;
            return [h.name, furtherHost(h, { secrets, ...(hostTunnel ? { tunnel: hostTunnel } : {}), hostsTls })];
        }),
    );

    // The edge: HAProxy on :80/:443, a container on Linux, natively on the Mac on a Mac runtime.
    const edgeKey = model.edge === "native" ? new EdgeKey("edge-key") : undefined;
    const edge = new Edge(
        "edge",
        {
            part: plan.edge,
            networkNames: host.networkNames,
            caddy: host.caddy as pulumi.Resource,
            ...(edgeKey ? { edgeKey } : {}),
        },
        { providers: [engine] },
    );

    // 5. Outputs.
    return {
        /** Per service, per plane: the URL to open. */
        urls: serviceUrls(model),
        /** The Cloudflare Tunnel's id (absent when no service is public). */
        tunnelId: tunnel?.tunnelId,
        /** The id of the DNS-01 token (its value is secret and goes only to Caddy). */
        dnsTokenId: dnsToken.tokenId,
        /** The client CA certificate (PEM). */
        caCertificate: ca.caCertificate,
        /** Secret: per user, the .p12 (base64), its password and the certificate's expiry. */
        clientBundles: ca.clientBundles,
        /** How to write a user's .p12 to disk and import it. */
        getBundle: "npm run bundle -- <user> [dir]   (reads: pulumi stack output --show-secrets --json clientBundles)",
        /** The Docker containers this stack runs, by name → id. */
        containers: pulumi.all([host.containers, edge.containerId]).apply(([c, haproxy]) => ({ ...c, haproxy })),
        /** Further hosts (homelab:hosts): per host, its containers by name → id. */
        hostContainers,
        /** The client certificates the stack has issued and when each ends: every user's, and the monitor's. */
        clientCertificates: clientCertificateList(ca),
        /** homelab:monitoring: the status page, how many checks it runs and what it leaves out (and why). */
        monitoring: model.monitoring ? monitoringSummary(model) : undefined,
        /** Where the edge runs: a container (Linux) or natively on the Mac under launchd. */
        edgePlacement: model.edge,
        /** Records taken over from a hand-made setup on this run (homelab:adopt), by resource. */
        adopted: contact.imports,
    };
};

/**
 * One further host (homelab:hosts): its own Docker provider, its networks and containers (a
 * DockerHost without Caddy) and, when it serves private or mtls services, its gateway. Returns its
 * containers by name → id.
 */
function furtherHost(
    h: HostPart,
    args: { secrets: pulumi.Input<Record<string, string>>; tunnel?: Tunnel; hostsTls: HostsTls | undefined },
): pulumi.Output<Record<string, string>> {
    const onHost = { providers: [new docker.Provider(`docker-engine-${h.name}`, { host: h.dockerHost.engine })] };
    const further = new DockerHost(
        `host-${h.name}`,
        {
            part: h.dockerHost,
            ...(args.tunnel ? { tunnelToken: args.tunnel.token, tunnelCleanup: args.tunnel.connectionsCleanup } : {}),
            secrets: args.secrets,
        },
        onHost,
    );
    if (h.gateway && args.hostsTls)
        new Gateway(
            `gateway-${h.name}`,
            {
                part: h.gateway,
                networkNames: further.networkNames,
                caPem: args.hostsTls.caPem,
                serverPem: args.hostsTls.gatewayPems[h.name] as pulumi.Output<string>,
            },
            onHost,
        );
    return further.containers;
}
