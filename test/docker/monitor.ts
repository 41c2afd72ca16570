// @docker: the status container (homelab:monitoring) on a real engine with Docker's own iptables.
// The stack's containers come from dockerPlan(model) with a status page; the echo image stands in
// for Gatus (a Go program too: its `tlsget` resolves and fetches as Gatus does). Its folder is
// written by the production FILES_ON_HOST script, and the edge container runs the production
// haproxy.cfg, which lets the status container's address skip the split. What only a real engine
// can show: Docker leaves the status container's own /etc/hosts and nsswitch.conf alone; the
// status container reaches the edge on the edge network while the published ports keep serving;
// the key is readable by the status container's user alone; a rewrite of the hosts file reaches
// the running container; and no other container is let in as it is.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { Engine, startEngine } from "./engine";
import { ECHO_IMAGE, buildStandIns } from "./images";
import { inspectContainer } from "./apply";
import {
    ADDR,
    HOSTS,
    Pki,
    Stack,
    bringUp,
    caddyBundle,
    curl,
    makePki,
    newStack,
    serverNames,
    stackModel,
    tagServiceImages,
    waitFor,
} from "./stack";
import { monitoringDir } from "../../plan/docker";
import { FILES_ON_HOST, FILES_WRITE, packFiles } from "../../render/reload";
import { MONITOR_FILES, MONITOR_NSSWITCH, renderGatusConfig, renderMonitorHosts } from "../../render/gatus";
import { MONITOR_ETC, MONITOR_USER } from "../../stacks/layout";
import versions from "../../render/versions.json";

/** The private network's gateway, as in the main engine suite (no docker0 here). */
const HOST_GATEWAY = "10.213.0.1";
const SERVER_CA = "server-ca.pem";

export function monitorSuite(log: (line: string) => void): void {
    describe("@docker the status container: its own names, the edge's monitor entry, its key", function () {
        this.timeout(180_000);
        let engine: Engine;
        let stack: Stack;
        let pki: Pki;
        const started = Date.now();

        const files = (extraHosts = ""): string =>
            packFiles({
                "config.yaml": renderGatusConfig(stack.model, [{ name: "dave", notAfter: "2030-01-01T00:00:00Z" }]),
                [MONITOR_ETC.hosts]: renderMonitorHosts(stack.model) + extraHosts,
                [MONITOR_ETC.nsswitch]: MONITOR_NSSWITCH,
                [MONITOR_FILES.cert]: fs.readFileSync((pki.users["monitor"] as { cert: string }).cert, "utf8"),
                [MONITOR_FILES.key]: fs.readFileSync((pki.users["monitor"] as { key: string }).key, "utf8"),
                // The engine's stand-in for the public roots Gatus verifies Let's Encrypt's certificates with.
                [SERVER_CA]: fs.readFileSync(pki.serverCa, "utf8"),
            });
        /** FILES_ON_HOST exactly as the Monitoring component runs it. */
        const writeFiles = (bundle: string) =>
            engine.script(
                FILES_ON_HOST,
                {
                    CONFIG_DIR: monitoringDir(stack.model),
                    IMAGE: versions.haproxyImage,
                    WRITE: FILES_WRITE,
                    OWNER: MONITOR_USER,
                    IN_PLACE: `${MONITOR_ETC.hosts} ${MONITOR_ETC.nsswitch}`,
                },
                bundle,
            );
        const inStatus = async (...args: string[]) =>
            (await engine.docker(["exec", "status", ...args], { timeoutMs: 20_000 })).stdout.trim();
        const tlsget = (url: string, cert: boolean) =>
            inStatus(
                "/echo",
                "tlsget",
                "-ca",
                `/config/${SERVER_CA}`,
                ...(cert ? ["-cert", `/config/${MONITOR_FILES.cert}`, "-key", `/config/${MONITOR_FILES.key}`] : []),
                url,
            );

        before(async function () {
            this.timeout(20 * 60_000);
            engine = await startEngine({
                hostGatewayIp: HOST_GATEWAY,
                dns: HOST_GATEWAY,
                // Where the edge publishes: the stack's tailnet and listed LAN addresses.
                loopbackAddresses: [ADDR.tailnet, ADDR.listen].map((a) => `${a}/32`),
                firewall: true,
            });
            log(`engine: dockerd ${engine.pid} with iptables in its own namespace`);
            await buildStandIns(engine);
            const dir = path.join(engine.dir, "stack");
            const opts = { mtls: true, wiki: false, users: ["dave"], extra: { "homelab:monitoring": {} } };
            const model = stackModel(dir, opts);
            pki = makePki(
                path.join(dir, "pki"),
                path.join(model.docker.dataDir, "caddy/etc/server-certs"),
                serverNames(model),
                ["dave", "monitor"],
            );
            stack = newStack(dir, opts, pki);
            fs.mkdirSync(path.join(dir, "media-files"), { recursive: true });
            await tagServiceImages(engine, [stack.plan]);
            // The Monitoring component writes the folder before the status container exists (dependsOn).
            const w = await writeFiles(files());
            assert.equal(w.status, 0, w.stderr);
            // Caddy's allowlist: the person's certificate and the monitor's (components/watch.ts MONITOR_KEY).
            const withMonitor = {
                ...stack.model,
                users: [...stack.model.users, { name: "monitor", validityDays: 90 }],
            };
            await bringUp(engine, stack, { caddyBundle: caddyBundle(withMonitor, pki) });
            await waitFor("the status container", async () => (await inStatus("/echo", "lookup", HOSTS.media)) !== "");
            log(`stack with a status page up after ${((Date.now() - started) / 1000).toFixed(1)} s`);
        });

        after(function () {
            this.timeout(120_000);
            if (!engine) return;
            engine.stopSync();
            for (const n of engine.cleanupNotes) log(`cleanup: ${n}`);
            const left = engine.leftovers();
            assert.deepEqual(left, [], `the engine left things behind: ${left.join("; ")}`);
        });

        it("Docker leaves the status container's /etc/hosts and nsswitch.conf as the stack wrote them; its names lead to the edge", async () => {
            assert.equal(`${await inStatus("cat", "/etc/hosts")}\n`, renderMonitorHosts(stack.model));
            assert.equal(`${await inStatus("cat", "/etc/nsswitch.conf")}\n`, MONITOR_NSSWITCH);
            // Go's resolver (Gatus's) reads the file before DNS.
            assert.equal(await inStatus("/echo", "lookup", HOSTS.media), stack.model.addresses.haproxy);
            assert.equal(await inStatus("/echo", "lookup", HOSTS.cloud), stack.model.addresses.haproxy);
            const info = await inspectContainer(engine, "status");
            const edgeNet = stack.plan.networks.find((n) => n.key === "edge")?.name as string;
            assert.equal(info.NetworkSettings.Networks[edgeNet]?.IPAddress, stack.model.addresses.monitor);
        });

        it("through the edge container: a private name, and an mtls name with the monitor's certificate", async () => {
            let last = "";
            const media = await waitFor(
                "media through the monitor entry",
                async () => {
                    last = await tlsget(`https://${HOSTS.media}/`, false);
                    return last.startsWith("200 ") ? last : undefined;
                },
                15_000,
            ).catch(async (e) => {
                const logs = await engine.docker(["logs", "haproxy"]);
                throw new Error(`${String(e)}\nlast: ${last}\n${(logs.stdout + logs.stderr).slice(-1500)}`);
            });
            assert.match(media, /"service":"media"/);
            assert.match(await tlsget(`https://${HOSTS.cloud}/`, true), /^200 .*"service":"cloud"/);
            // Without the certificate the mtls name is refused (its listener asks for one).
            assert.match(await tlsget(`https://${HOSTS.cloud}/`, false), /^error /);
        });

        it("a client on the published ports is still served: on the tailnet address (container port 443) and the listed one", async () => {
            // Review finding: an entry bound on HAProxy's own address :443 took every connection
            // Docker hands the container on the tailnet address (published to container port 443).
            for (const dest of [ADDR.tailnet, ADDR.listen]) {
                const r = await curl(engine, pki, { host: HOSTS.cloud, user: "dave", dest });
                assert.equal(r.status, 200, `${dest}: ${r.verbose.slice(-300)}`);
            }
        });

        it("the monitor's key is the status container's user's alone (0600), and that user reads it", async () => {
            const st = (
                await engine.docker([
                    "run",
                    "--rm",
                    "--user",
                    "0",
                    "-v",
                    `${monitoringDir(stack.model)}:/m:ro`,
                    "--entrypoint",
                    "stat",
                    ECHO_IMAGE,
                    "-c",
                    "%a %u:%g %n",
                    `/m/${MONITOR_FILES.key}`,
                    `/m/${MONITOR_FILES.cert}`,
                    `/m/${MONITOR_ETC.hosts}`,
                ])
            ).stdout.trim();
            assert.deepEqual(st.split("\n"), [
                `600 ${MONITOR_USER} /m/${MONITOR_FILES.key}`,
                `644 0:0 /m/${MONITOR_FILES.cert}`,
                `644 0:0 /m/${MONITOR_ETC.hosts}`,
            ]);
            assert.match(
                await inStatus("head", "-c", "27", `/config/${MONITOR_FILES.key}`),
                /-----BEGIN [A-Z ]*PRIVATE/,
            );
            // Another user in the same folder cannot.
            const other = await engine.docker([
                "run",
                "--rm",
                "--user",
                "1000:1000",
                "-v",
                `${monitoringDir(stack.model)}:/m:ro`,
                "--entrypoint",
                "cat",
                ECHO_IMAGE,
                `/m/${MONITOR_FILES.key}`,
            ]);
            assert.notEqual(other.status, 0, "uid 1000 read the key");
        });

        it("no other container is let in as the status container is: not from Caddy's address on the edge network, not the public service", async () => {
            // A throwaway in Caddy's namespace: on the edge network, at Caddy's fixed address.
            const fromCaddy = await engine.docker(
                [
                    "run",
                    "--rm",
                    "--network",
                    "container:caddy",
                    "-v",
                    `${monitoringDir(stack.model)}:/config:ro`,
                    ECHO_IMAGE,
                    "tlsget",
                    "-addr",
                    `${stack.model.addresses.haproxy}:443`,
                    "-ca",
                    `/config/${SERVER_CA}`,
                    `https://${HOSTS.media}/`,
                ],
                { timeoutMs: 30_000 },
            );
            assert.match(fromCaddy.stdout.trim(), /^error /, fromCaddy.stdout);
            const fromBlog = (
                await engine.docker(["exec", "blog", "/echo", "probe", `${stack.model.addresses.haproxy}:443`, "2000"])
            ).stdout.trim();
            assert.notEqual(fromBlog.split(" ")[0], "connected", fromBlog);
        });

        it("a rewrite of the names reaches the running container (written in place), and replaces nothing", async () => {
            const id = (await inspectContainer(engine, "status")).Id as string;
            const w = await writeFiles(files(`${stack.model.addresses.haproxy}\tnew.home.example.dev\n`));
            assert.equal(w.status, 0, w.stderr);
            assert.match(w.stdout, /changed/);
            assert.equal(await inStatus("/echo", "lookup", "new.home.example.dev"), stack.model.addresses.haproxy);
            assert.equal((await inspectContainer(engine, "status")).Id, id);
            const again = await writeFiles(files(`${stack.model.addresses.haproxy}\tnew.home.example.dev\n`));
            assert.match(again.stdout, /unchanged/);
        });
    });
}
