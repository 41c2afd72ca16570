// Program scale: one measurement per child process, so peak memory is that of the work measured.
//   render <services> <users>   validate + render every file
//   eval <services> <users>     the whole program under Pulumi's mocks (PKCS#12 bundles built;
//                               certificate signing replaced by one pre-made certificate)
//   sign <users>                sign <users> client certificates with openssl (the tls mock's
//                               real path; a stand-in for the tls provider's own work)
//   p12 <users>                 build <users> PKCS#12 bundles (the program's own crypto cost)
//   example                     read, validate and render the example stack (Pulumi.home.yaml)
// Prints one JSON line: { wallMs, gcMs, maxRssMb } (gcMs: time in V8's garbage collector during
// the measured part).
import * as path from "path";
import { PerformanceObserver } from "perf_hooks";
import { validate } from "../stacks/validate";
import { renderAll } from "../render/all";
import { modelFromStackFile, rawConfigOf } from "../stacks/stackFile";
import { EXAMPLE_DEV_BASE } from "../test/support/exampleDev";

export function syntheticConfig(services: number, users: number): Record<string, unknown> {
    const svc: Record<string, unknown> = {};
    for (let i = 0; i < services; i++) {
        const name = `svc${String(i).padStart(4, "0")}`;
        const kind = i % 10;
        if (kind === 0) svc[name] = { upstream: `host.docker.internal:${2000 + i}` };
        else if (kind === 1)
            svc[name] = { image: `ghcr.io/example/${name}:1.0.${i}`, port: 8080, expose: ["private", "mtls"] };
        else if (kind === 2)
            svc[name] = {
                image: `ghcr.io/example/${name}:1.0.${i}`,
                port: 8080,
                expose: ["public"],
                ...(i % 20 === 2 ? { access: { emails: [`u${i}@example.dev`] } } : {}),
            };
        else
            svc[name] = {
                image: `ghcr.io/example/${name}:1.0.${i}`,
                port: 8080,
                env: { TZ: "UTC" },
                volumes: [`/srv/${name}:/data`],
            };
    }
    svc["dash"] = { image: "glanceapp/glance:v0.7.13", port: 8080, apex: true };
    return {
        ...EXAMPLE_DEV_BASE,
        "homelab:trustedNetworks": ["192.168.1.0/24"],
        "homelab:docker": {
            runtime: "linux",
            dataDir: "/srv/homelab",
            subnet: "10.200.0.0/16",
            listenAddresses: ["192.168.1.20"],
        },
        "homelab:services": svc,
        "homelab:users": Array.from({ length: users }, (_, i) => ({ name: `user${String(i).padStart(4, "0")}` })),
    };
}

const RENDER_RUNS = 21;

const raw = rawConfigOf;

async function main(): Promise<void> {
    const [what, a = "12", b = "1000"] = process.argv.slice(2);
    const n = Number(a);
    const users = Number(b);
    let wallMs: number;
    let gcMs = 0;
    let counts: { services: number; users: number } | undefined;
    let runs: number | undefined;
    let measuring = false;
    const gc = new PerformanceObserver((list) => {
        if (measuring) for (const e of list.getEntries()) gcMs += e.duration;
    });
    gc.observe({ entryTypes: ["gc"] });
    const begin = () => {
        measuring = true;
        return process.hrtime.bigint();
    };
    if (what === "example") {
        const t = begin();
        const model = modelFromStackFile(path.join(__dirname, "..", "Pulumi.home.yaml"));
        renderAll(model);
        wallMs = Number(process.hrtime.bigint() - t) / 1e6;
        counts = { services: model.services.length, users: model.users.length };
    } else if (what === "render") {
        // Warm (after a small render), median of RENDER_RUNS: one render is milliseconds, so a single
        // cold one measures the JIT and the machine's jitter more than the work.
        const cfg = syntheticConfig(n, users);
        renderAll(validate(raw(syntheticConfig(12, 1))));
        const times: number[] = [];
        for (let i = 0; i < RENDER_RUNS; i++) {
            const t = begin();
            renderAll(validate(raw(cfg)));
            times.push(Number(process.hrtime.bigint() - t) / 1e6);
            measuring = false;
        }
        wallMs = times.sort((x, y) => x - y)[Math.floor(RENDER_RUNS / 2)] ?? 0;
        gcMs /= RENDER_RUNS;
        runs = RENDER_RUNS;
    } else if (what === "eval") {
        process.env["HOMELAB_FAST_TLS"] = "1";
        const { runProgram } = await import("../test/harness");
        const cfg = syntheticConfig(n, users);
        await runProgram(syntheticConfig(12, 1), { stack: "bench" }); // warm-up: module loading, the pre-made certificate
        const t = begin();
        const run = await runProgram(cfg, { stack: "bench" });
        wallMs = Number(process.hrtime.bigint() - t) / 1e6;
        if (run.error) throw run.error;
        const bundles = run.outputs["clientBundles"] as Record<string, unknown>;
        if (Object.keys(bundles).length !== users) throw new Error("bundles missing");
    } else if (what === "sign") {
        const { tlsStateMock, resetTlsState } = await import("../test/mocks/tls");
        resetTlsState();
        const ca = tlsStateMock(
            { type: "tls:index/privateKey:PrivateKey", name: "ca", inputs: {} } as any,
            false,
        ) as any;
        const caCert = tlsStateMock(
            {
                type: "tls:index/selfSignedCert:SelfSignedCert",
                name: "cac",
                inputs: {
                    privateKeyPem: ca.privateKeyPem,
                    isCaCertificate: true,
                    allowedUses: ["cert_signing"],
                    validityPeriodHours: 24,
                },
            } as any,
            false,
        ) as any;
        const t = begin();
        for (let i = 0; i < n; i++) {
            const k = tlsStateMock(
                { type: "tls:index/privateKey:PrivateKey", name: `k${i}`, inputs: {} } as any,
                false,
            ) as any;
            const csr = tlsStateMock(
                {
                    type: "tls:index/certRequest:CertRequest",
                    name: `r${i}`,
                    inputs: { privateKeyPem: k.privateKeyPem, subject: { commonName: `u${i}` } },
                } as any,
                false,
            ) as any;
            tlsStateMock(
                {
                    type: "tls:index/locallySignedCert:LocallySignedCert",
                    name: `c${i}`,
                    inputs: {
                        certRequestPem: csr.certRequestPem,
                        caCertPem: caCert.certPem,
                        caPrivateKeyPem: ca.privateKeyPem,
                        allowedUses: ["client_auth"],
                        validityPeriodHours: 24,
                    },
                } as any,
                false,
            );
        }
        wallMs = Number(process.hrtime.bigint() - t) / 1e6;
    } else if (what === "p12") {
        const { tlsStateMock } = await import("../test/mocks/tls");
        const { buildP12 } = await import("../pki/p12");
        process.env["HOMELAB_FAST_TLS"] = "1";
        const key = tlsStateMock(
            { type: "tls:index/privateKey:PrivateKey", name: "k", inputs: {} } as any,
            false,
        ) as any;
        const cert = tlsStateMock(
            { type: "tls:index/locallySignedCert:LocallySignedCert", name: "c", inputs: {} } as any,
            false,
        ) as any;
        const ca = tlsStateMock(
            { type: "tls:index/selfSignedCert:SelfSignedCert", name: "ca", inputs: {} } as any,
            false,
        ) as any;
        const t = begin();
        for (let i = 0; i < n; i++)
            buildP12({
                keyPem: key.privateKeyPem,
                certPem: cert.certPem,
                caPems: [ca.certPem],
                password: `password-${i}-abcdefghij`,
                friendlyName: `u${i}`,
            });
        wallMs = Number(process.hrtime.bigint() - t) / 1e6;
    } else {
        throw new Error(`unknown measurement ${what}`);
    }
    await new Promise((r) => setImmediate(r)); // let the last gc entries arrive
    gc.disconnect();
    process.stdout.write(
        JSON.stringify({ wallMs, gcMs, maxRssMb: process.resourceUsage().maxRSS / 1024, counts, runs }) + "\n",
    );
}

if (require.main === module) {
    main().catch((e) => {
        process.stderr.write(`${(e as Error).stack}\n`);
        process.exit(1);
    });
}
