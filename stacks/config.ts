// Reads the `homelab:*` stack config through Pulumi and validates it. The only place that
// touches Pulumi config; everything after it works on the typed Model.
import { alertTokenProblem } from "./monitoring";
import { alertUrlProblem } from "./schema";
import * as pulumi from "@pulumi/pulumi";
import { Model } from "./model";
import { ConfigError, NAMESPACE, Problem, RawConfig, validate } from "./validate";

export interface LoadedConfig {
    model: Model;
    /** `homelab:secrets`: values for services' secretEnv, secret end to end. */
    secrets: pulumi.Output<Record<string, string>>;
    /** `cloudflare:apiToken`, the bootstrap token: secret. */
    cloudflareToken: pulumi.Output<string>;
}

/**
 * Whether the engine received a key encrypted (PULUMI_CONFIG_SECRET_KEYS). The SDK exports it from
 * its runtime but marks it @internal, so its typings leave it out.
 */
const { isConfigSecret } = require("@pulumi/pulumi/runtime/config") as { isConfigSecret: (key: string) => boolean };

/** The scalar keys Pulumi.yaml declares as strings. */
const STRING_KEYS = ["domain", "zoneId", "accountId"] as const;

export const BOOTSTRAP_TOKEN_KEY = "cloudflare:apiToken";
export const SECRETS_KEY = "homelab:secrets";

/**
 * A key that must be stored encrypted but was written in plaintext (`pulumi config set` without
 * `--secret`, or typed into the stack file): refused, with the command that stores it properly.
 * The engine tells the program which keys arrived encrypted; a map counts as encrypted when any
 * value in it is (the CLI cannot say which), so the stack-file check (tools/configcheck) looks at
 * each value of `homelab:secrets` as well.
 */
export function plaintextSecretProblems(
    present: (key: string) => boolean,
    encrypted: (key: string) => boolean,
): Problem[] {
    const problems: Problem[] = [];
    if (present(BOOTSTRAP_TOKEN_KEY) && !encrypted(BOOTSTRAP_TOKEN_KEY)) {
        problems.push({
            key: BOOTSTRAP_TOKEN_KEY,
            message: `is stored in plaintext in the stack file: remove it (pulumi config rm ${BOOTSTRAP_TOKEN_KEY}), revoke it in the Cloudflare dashboard if the file was shared, and set a new one with pulumi config set --secret ${BOOTSTRAP_TOKEN_KEY}`,
        });
    }
    if (present(SECRETS_KEY) && !encrypted(SECRETS_KEY)) {
        problems.push({
            key: SECRETS_KEY,
            message:
                "is stored in plaintext in the stack file: set each value again with pulumi config set --secret --path 'homelab:secrets.<name>' <value> (and change any value that was shared)",
        });
    }
    return problems;
}

const SECRET_ELSEWHERE =
    "is stored encrypted (--secret), but only homelab:secrets values stay secret in this stack: any other key's value is written as it is into resources and the state. Keep the key in plaintext, and put the secret itself in homelab:secrets.<name> (referred to by a service's secretEnv)";

/** Loads and validates the stack config; throws ConfigError (every problem, each with its key). */
export function loadConfig(): LoadedConfig {
    const all = pulumi.runtime.allConfig();
    const raw: RawConfig = {};
    const problems: Problem[] = [];
    let secretValues: Record<string, string> | undefined;
    const prefix = `${NAMESPACE}:`;
    for (const [fullKey, text] of Object.entries(all)) {
        if (!fullKey.startsWith(prefix)) continue;
        const key = fullKey.slice(prefix.length);
        let value: unknown;
        try {
            value = JSON.parse(text);
        } catch {
            value = text; // plain strings are stored unquoted
        }
        // The CLI hands every scalar over as text: a quoted all-digit id arrives as its digits, as
        // does an unquoted one that fits 64 bits. Only a longer unquoted one has become a float
        // ("1.1e+31"), which the validator asks to quote.
        if (typeof value === "number" && (STRING_KEYS as readonly string[]).includes(key) && /^[0-9]+$/.test(text))
            value = text;
        if (key !== "secrets" && isConfigSecret(fullKey)) {
            // Left out of validation too, so no message can repeat the value.
            problems.push({ key: fullKey, message: SECRET_ELSEWHERE });
            continue;
        }
        if (key === "secrets") {
            if (
                typeof value !== "object" ||
                value === null ||
                Array.isArray(value) ||
                Object.values(value).some((v) => typeof v !== "string")
            ) {
                problems.push({
                    key: `${prefix}secrets`,
                    message:
                        "must be a map of name → string, set with pulumi config set --secret --path 'homelab:secrets.<name>' <value>",
                });
            } else secretValues = value as Record<string, string>;
            continue;
        }
        raw[key] = value;
    }
    problems.push(...plaintextSecretProblems((k) => all[k] !== undefined, isConfigSecret));
    const token = all[BOOTSTRAP_TOKEN_KEY];
    if (token === undefined || token === "") {
        problems.push({
            key: BOOTSTRAP_TOKEN_KEY,
            message: `is required: pulumi config set --secret ${BOOTSTRAP_TOKEN_KEY} (docs/operations.md: Deploying, step by step)`,
        });
    }
    let model: Model | undefined;
    try {
        model = validate(raw, secretValues ? Object.keys(secretValues) : []);
    } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        problems.unshift(...e.problems);
    }
    // The alert channel's secrets are checked here, where their values are known, and never
    // repeated in a message.
    const alerts = model?.monitoring?.alerts;
    const secretProblem = (key: string | undefined, problem: (v: string) => string | undefined) => {
        const value = key === undefined ? undefined : secretValues?.[key];
        const p = value === undefined ? undefined : problem(value);
        if (p) problems.push({ key: `${prefix}secrets.${key}`, message: `${p} (the value is not shown)` });
    };
    if (alerts) {
        secretProblem(alerts.tokenSecret, (v) => alertTokenProblem(v, alerts.kind));
        if ("urlSecret" in alerts) secretProblem(alerts.urlSecret, alertUrlProblem);
    }
    if (problems.length > 0 || !model) throw new ConfigError(problems);
    return { model, secrets: pulumi.secret(secretValues ?? {}), cloudflareToken: pulumi.secret(token as string) };
}
