// Reads the `homelab:*` stack config through Pulumi and validates it. The only place that
// touches Pulumi config; everything after it works on the typed Model.
import * as pulumi from "@pulumi/pulumi";
import { Model } from "./model";
import { ConfigError, NAMESPACE, RawConfig, validate } from "./validate";

export interface LoadedConfig {
    model: Model;
    /** `homelab:secrets`: values for services' secretEnv, secret end to end. */
    secrets: pulumi.Output<Record<string, string>>;
}

/** Loads and validates the stack config; throws ConfigError (every problem, each with its key). */
export function loadConfig(): LoadedConfig {
    const all = pulumi.runtime.allConfig();
    const raw: RawConfig = {};
    let secretValues: Record<string, string> = {};
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
        if (key === "secrets") {
            if (typeof value !== "object" || value === null || Array.isArray(value) || Object.values(value).some((v) => typeof v !== "string")) {
                throw new ConfigError([{ key: `${prefix}secrets`, message: "must be a map of name → string, set with pulumi config set --secret --path 'secrets.<name>' <value>" }]);
            }
            secretValues = value as Record<string, string>;
            continue;
        }
        raw[key] = value;
    }
    const model = validate(raw, Object.keys(secretValues));
    return { model, secrets: pulumi.secret(secretValues) };
}
