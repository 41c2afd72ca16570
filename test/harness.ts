// Runs the real program (index.ts) under Pulumi's mocks with a given stack config and records
// every resource it registers: type, name, parent chain, inputs, and which inputs are secret.
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import * as fs from "fs";
import { createHash } from "crypto";
import * as YAML from "yaml";
import { MockCallArgs, MockMonitor, MockResourceArgs, MockResourceResult } from "@pulumi/pulumi/runtime/mocks";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";

export interface Registered {
    type: string;
    name: string;
    urn: string;
    /** The chain of parent types, outermost first (from the URN). */
    parents: string[];
    inputs: Record<string, any>;
    /** Dotted paths of inputs that arrived as Pulumi secrets. */
    secretInputs: string[];
    provider?: string;
    custom: boolean;
    /** The URNs this resource declares it used to have (its aliases, resolved). */
    aliases: string[];
    /** The `import` option: the id of an existing resource taken over. */
    importId?: string;
    /** The `ignoreChanges` option. */
    ignoreChanges: string[];
    /** Resource options the engine acts on and the mocks never do: recorded so tests can assert them. */
    options: ResourceOptionsSeen;
}

/** The resource options of a registration, as the engine receives them. */
export interface ResourceOptionsSeen {
    deleteBeforeReplace: boolean;
    /** URNs of the resources this one depends on (dependsOn and every input's dependencies). */
    dependsOn: string[];
    /** For each input, the URNs of the resources its value came from. */
    propertyDependencies: Record<string, string[]>;
    retainOnDelete: boolean;
    replaceOnChanges: string[];
    protect: boolean;
    additionalSecretOutputs: string[];
    /** The `deletedWith` option (a URN), if any. */
    deletedWith?: string;
    customTimeouts?: { create: string; update: string; delete: string };
}

export interface Invoked {
    token: string;
    inputs: Record<string, any>;
}

export interface Run {
    resources: Registered[];
    invokes: Invoked[];
    outputs: Record<string, unknown>;
    /** Top-level output names whose value is a Pulumi secret. */
    secretOutputs: Set<string>;
    /** Outputs that are plain (not secret), serialised, for leak checks. */
    plainOutputsJson: string;
    /** What the program logged as warnings (pulumi.log.warn). */
    warnings: string[];
    error?: Error;
}

/** Hook for per-type mock state (e.g. real PEMs for @pulumi/tls resources). */
export type StateMock = (args: MockResourceArgs, preview: boolean) => Record<string, any> | undefined;
const stateMocks: StateMock[] = [];
export function addStateMock(m: StateMock): void {
    stateMocks.push(m);
}

import { tlsStateMock } from "./mocks/tls";
import { ExistingRecord } from "../stacks/firstContact";
addStateMock(tlsStateMock);

export const PERMISSION_GROUPS = [
    { id: "c8fed203ed3043cba015a93ad1616f1f", name: "Zone Read", scopes: ["com.cloudflare.api.account.zone"] },
    { id: "4755a26eedb94da69e1066d98aa820be", name: "DNS Write", scopes: ["com.cloudflare.api.account.zone"] },
    { id: "82e64a83756745bbbb1c9c2701bf816b", name: "DNS Read", scopes: ["com.cloudflare.api.account.zone"] },
    { id: "e6d2666161e84845a636613608cee8d5", name: "Zone Write", scopes: ["com.cloudflare.api.account.zone"] },
];

function secretPaths(value: any, prefix = ""): string[] {
    if (value === null || typeof value !== "object") return [];
    if (value[specialSigKey] === specialSecretSig) return [prefix || "(root)"];
    const out: string[] = [];
    for (const [k, v] of Object.entries(value)) out.push(...secretPaths(v, prefix ? `${prefix}.${k}` : k));
    return out;
}

/** Replaces Pulumi's secret envelopes with their values. */
export function unwrapSecrets(value: any): any {
    if (value === null || typeof value !== "object") return value;
    if (value[specialSigKey] === specialSecretSig) return unwrapSecrets(value.value);
    if (Array.isArray(value)) return value.map(unwrapSecrets);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
}

function parentsOf(urn: string): string[] {
    const qualified = urn.split("::")[2] ?? "";
    return qualified.split("$").slice(0, -1);
}

/** The qualified type of a URN (`parentType$type`), or "" for none / the stack. */
function qualifiedType(urn: string): string {
    const t = urn.split("::")[2] ?? "";
    return t === "pulumi:pulumi:Stack" ? "" : t;
}

/** Resolves the aliases of a registration request to URNs, as the engine would. */
function aliasUrns(req: any, project: string, stack: string): string[] {
    return (req.getAliasesList?.() ?? []).map((a: any) => {
        if (a.hasUrn()) return a.getUrn();
        const spec = a.getSpec();
        const parent = spec.getNoparent() ? "" : spec.hasParenturn() ? spec.getParenturn() : req.getParent();
        const chain = parent ? qualifiedType(parent) : "";
        const type = spec.getType() || req.getType();
        return `urn:pulumi:${spec.getStack() || stack}::${spec.getProject() || project}::${chain ? `${chain}$` : ""}${type}::${spec.getName() || req.getName()}`;
    });
}

function optionsOf(req: any): ResourceOptionsSeen {
    const deps = new Set<string>(req.getDependenciesList?.() ?? []);
    const propertyDependencies: Record<string, string[]> = {};
    // Input dependencies (an output of another resource passed as an input) order the engine too.
    for (const [k, v] of req.getPropertydependenciesMap?.()?.entries?.() ?? []) {
        propertyDependencies[k] = [...v.getUrnsList()].sort();
        for (const u of v.getUrnsList()) deps.add(u);
    }
    const timeouts = req.getCustomtimeouts?.();
    return {
        deleteBeforeReplace: !!req.getDeletebeforereplace?.(),
        dependsOn: [...deps].sort(),
        propertyDependencies,
        retainOnDelete: !!req.getRetainondelete?.(),
        replaceOnChanges: req.getReplaceonchangesList?.() ?? [],
        protect: !!req.getProtect?.(),
        additionalSecretOutputs: req.getAdditionalsecretoutputsList?.() ?? [],
        ...(req.getDeletedwith?.() ? { deletedWith: req.getDeletedwith() } : {}),
        ...(timeouts && (timeouts.getCreate() || timeouts.getUpdate() || timeouts.getDelete())
            ? {
                  customTimeouts: {
                      create: timeouts.getCreate(),
                      update: timeouts.getUpdate(),
                      delete: timeouts.getDelete(),
                  },
              }
            : {}),
    };
}

export class RecordingMonitor extends MockMonitor {
    public readonly records: Registered[] = [];
    constructor(
        mocks: pulumi.runtime.Mocks,
        private readonly stackName: string,
    ) {
        super(mocks);
    }
    async registerResource(req: any, callback: (err: any, resp: any) => void): Promise<void> {
        const raw = req.getObject()?.toJavaScript() ?? {};
        const wrapped = (err: any, resp: any) => {
            if (!err && resp) {
                const urn: string = resp.getUrn();
                this.records.push({
                    type: req.getType(),
                    name: req.getName(),
                    urn,
                    parents: parentsOf(urn),
                    inputs: unwrapSecrets(pulumi.runtime.deserializeProperties(req.getObject())),
                    secretInputs: secretPaths(raw),
                    provider: req.getProvider() || undefined,
                    custom: req.getCustom(),
                    aliases: aliasUrns(req, "homelab", this.stackName),
                    importId: req.getImportid?.() || undefined,
                    ignoreChanges: req.getIgnorechangesList?.() ?? [],
                    options: optionsOf(req),
                });
            }
            callback(err, resp);
        };
        return super.registerResource(req, wrapped);
    }
}

/** A DNS record as the mocked record list returns it. */
export type ZoneRecord = ExistingRecord;

export class HomelabMocks implements pulumi.runtime.Mocks {
    public readonly invokes: Invoked[] = [];
    constructor(
        private readonly preview: boolean,
        private readonly zone: ZoneRecord[],
    ) {}
    newResource(args: MockResourceArgs): MockResourceResult {
        const state: Record<string, any> = { ...args.inputs };
        const plainArgs = { ...args, inputs: unwrapSecrets(args.inputs) };
        for (const m of stateMocks) {
            const s = m(plainArgs, this.preview);
            if (s) Object.assign(state, s);
        }
        // In preview, provider-assigned ids are unknown until the resource exists.
        // Deterministic, so two runs of the same stack give the same inputs (the plan tests compare them).
        const id =
            this.preview && args.custom
                ? undefined
                : `${args.name}-id-${createHash("sha256").update(`${args.type}::${args.name}`).digest("hex").slice(0, 8)}`;
        if (!this.preview) {
            if (args.type === "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared") {
                state["id"] = "c0ffee00-1234-4abc-8def-0123456789ab";
                return { id: state["id"], state };
            }
            if (args.type === "cloudflare:index/apiToken:ApiToken")
                state["value"] =
                    args.name === "dns01-token" ? "dns01-token-value-SECRET-7f3a" : `${args.name}-value-SECRET`;
            if (args.type === "random:index/randomPassword:RandomPassword")
                state["result"] = `pw-${args.name}-SECRET-0123456789`;
            if (args.type === "docker:index/remoteImage:RemoteImage")
                state["imageId"] = `sha256:${createHash("sha256").update(String(args.inputs.name)).digest("hex")}`;
            if (args.type === "random:index/randomBytes:RandomBytes")
                state["base64"] = Buffer.alloc(args.inputs.length ?? 32, 7).toString("base64");
        }
        return { id, state };
    }
    call(args: MockCallArgs): Record<string, any> {
        this.invokes.push({ token: args.token, inputs: args.inputs });
        if (args.token === "cloudflare:index/getApiTokenPermissionGroupsList:getApiTokenPermissionGroupsList") {
            // As the API sees it: the provider encodes the query itself, so the name is matched as given.
            const name = args.inputs.name as string | undefined;
            return {
                results: PERMISSION_GROUPS.filter((g) => !name || g.name === name).map((g) => ({
                    ...g,
                    category: "dns_and_zones",
                    isSelectable: true,
                })),
            };
        }
        if (args.token === "cloudflare:index/getDnsRecords:getDnsRecords") {
            return { results: this.zone.map((r) => ({ ttl: 1, proxied: false, comment: "", ...r })) };
        }
        if (args.token === "cloudflare:index/getZeroTrustTunnelCloudflaredToken:getZeroTrustTunnelCloudflaredToken") {
            return {
                accountId: args.inputs.accountId,
                tunnelId: args.inputs.tunnelId,
                token: "tunnel-connector-token-SECRET-9b1c",
            };
        }
        return {};
    }
}

/** The `config:` map of a stack file, e.g. Pulumi.home.yaml. */
export function readStackFile(file: string): Record<string, unknown> {
    const doc = YAML.parse(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> };
    return doc.config ?? {};
}

export const ROOT = path.resolve(__dirname, "..");
/** The example stack's homelab:secrets, as the mocks see them (recognisable fake values). */
export const EXAMPLE_SECRETS: Record<string, string> = {
    "vaultwarden-admin-token": "admin-token-SECRET-5e6f",
    "immich-db-password": "immich-db-SECRET-8c1d",
    "authelia-jwt-secret": "authelia-jwt-SECRET-11aa",
    "authelia-session-secret": "authelia-session-SECRET-22bb",
    "authelia-storage-key": "authelia-storage-SECRET-33cc",
    // test/stacks/lake.yaml's alert webhook token.
    "hook-token": "hook-token-SECRET-44dd",
};
export const EXAMPLE_SECRET_NAMES = Object.keys(EXAMPLE_SECRETS);
export const EXAMPLE = readStackFile(path.join(ROOT, "Pulumi.home.yaml"));

export interface RunOptions {
    preview?: boolean;
    stack?: string;
    /** Values for `homelab:secrets` (set as a secret key). */
    secrets?: Record<string, string>;
    /** The zone's records as Cloudflare's record list would return them (default: none). */
    zone?: ZoneRecord[];
    /** Keys given in `config` that the engine reports as stored in plaintext (default: every key but the two secret ones). */
    plaintext?: string[];
    /** Further keys the engine reports as stored encrypted (`pulumi config set --secret`). */
    encrypted?: string[];
}

async function settle(o: unknown): Promise<{ value: unknown; secret: boolean }> {
    const out = pulumi.output(o as any) as any;
    const [value, secret] = await Promise.all([out.promise(true), out.isSecret]);
    return { value, secret };
}

/**
 * The one mocks setup of the unit tests: what runtime.setMocks does, with a monitor that also
 * records parents, options and secret inputs. runProgram uses it; a test that builds one
 * component alone calls it directly and reads `monitor.records`.
 */
export function installMocks(opts: Pick<RunOptions, "preview" | "stack" | "zone"> = {}): {
    mocks: HomelabMocks;
    monitor: RecordingMonitor;
} {
    const preview = opts.preview ?? false;
    const stack = opts.stack ?? "home";
    const mocks = new HomelabMocks(preview, opts.zone ?? []);
    const monitor = new RecordingMonitor(mocks, stack);
    pulumi.runtime.setMockOptions(monitor, "homelab", stack, preview);
    // The store is internal to the SDK (not in its typings); setMocks sets the same flags.
    const store = require("@pulumi/pulumi/runtime/state").getStore();
    store.supportsSecrets = true;
    store.supportsResourceReferences = true;
    store.supportsOutputValues = false;
    store.supportsDeletedWith = true;
    store.supportsAliasSpecs = true;
    return { mocks, monitor };
}

/** Runs index.ts with `config` (full keys, e.g. `homelab:domain`) under mocks. */
export async function runProgram(config: Record<string, unknown>, opts: RunOptions = {}): Promise<Run> {
    const { mocks, monitor } = installMocks(opts);

    const flat: Record<string, string> = {};
    for (const [k, v] of Object.entries(config)) flat[k] = typeof v === "string" ? v : JSON.stringify(v);
    const secrets = opts.secrets ?? EXAMPLE_SECRETS;
    if (flat["homelab:secrets"] === undefined) flat["homelab:secrets"] = JSON.stringify(secrets);
    if (flat["cloudflare:apiToken"] === undefined) flat["cloudflare:apiToken"] = "bootstrap-token-SECRET-1a2b";
    // As the CLI does: the keys stored with `secure:` are listed as secret, the others are not.
    const plaintext = new Set(opts.plaintext ?? []);
    const secretKeys = ["homelab:secrets", "cloudflare:apiToken"]
        .filter((k) => !plaintext.has(k))
        .concat(opts.encrypted ?? []);
    pulumi.runtime.setAllConfig(flat, secretKeys);

    // index.ts under ts-node, index.js where the program was compiled ahead of time (benchmarks).
    const entry = require.resolve(path.join(ROOT, "index"));
    delete require.cache[require.resolve(entry)];
    const run: Run = {
        resources: monitor.records,
        invokes: mocks.invokes,
        outputs: {},
        secretOutputs: new Set(),
        plainOutputsJson: "",
        warnings: [],
    };
    // Without an engine, pulumi.log.warn writes to console.warn: keep what the program warns.
    const consoleWarn = console.warn;
    console.warn = (...args: unknown[]) =>
        void run.warnings.push(
            args
                .map(String)
                .join(" ")
                .replace(/^warning: \[runtime\] /, ""),
        );
    try {
        return await evaluate(run, entry, monitor);
    } finally {
        console.warn = consoleWarn;
    }
}

async function evaluate(run: Run, entry: string, monitor: RecordingMonitor): Promise<Run> {
    let exportsObj: Record<string, unknown>;
    try {
        const program = require(entry);
        // The program is an async function (index.ts): call it as Pulumi does; its result is the outputs.
        exportsObj = typeof program === "function" ? await program() : program;
    } catch (e) {
        run.error = e as Error;
        await new Promise((r) => setTimeout(r, 20));
        return run;
    }
    const plain: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(exportsObj)) {
        const { value, secret } = await settle(v);
        run.outputs[k] = value;
        if (secret) run.secretOutputs.add(k);
        else plain[k] = value;
    }
    // Let registrations that no output depends on finish (bounded).
    let last = -1;
    for (let i = 0; i < 50 && last !== monitor.records.length; i++) {
        last = monitor.records.length;
        await new Promise((r) => setTimeout(r, 10));
    }
    run.plainOutputsJson = JSON.stringify(plain);
    return run;
}

export function ofType(run: Run, type: string): Registered[] {
    return run.resources.filter((r) => r.type === type);
}

export function clone(v: Record<string, unknown>): Record<string, any> {
    return JSON.parse(JSON.stringify(v)) as Record<string, any>;
}

/** The command resource whose name ends with `suffix` (the caddy reload, the edge's config, ...). */
export function commandNamed(run: Run, suffix: string): Registered {
    const c = ofType(run, "command:local:Command").find((r) => r.name.endsWith(suffix));
    if (!c) throw new Error(`no command resource named *${suffix}`);
    return c;
}

/**
 * The example (or `cfg`, changed in place) on a Linux host: the edge is a container, IPv4 only,
 * and the router forwards :443 to the listed LAN address 192.168.1.20.
 */
export function onLinux(cfg: Record<string, any> = clone(EXAMPLE)): Record<string, any> {
    cfg["homelab:docker"] = { ...cfg["homelab:docker"], runtime: "linux", listenAddresses: ["192.168.1.20"] };
    cfg["homelab:tailnet"] = { ipv4: cfg["homelab:tailnet"].ipv4 };
    return cfg;
}

/** `cfg` (changed in place) with a dynamic WAN address: the DDNS updater runs (and the DNS-01 token has no address condition). */
export function withDynamicWan(cfg: Record<string, any> = clone(EXAMPLE)): Record<string, any> {
    cfg["homelab:wan"] = { publicIp: "dynamic" };
    cfg["homelab:dnsToken"] = { ...cfg["homelab:dnsToken"], allowedIps: [] };
    return cfg;
}
