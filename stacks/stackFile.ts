// Reads a Pulumi stack file (e.g. Pulumi.home.yaml) offline, without the Pulumi CLI.
import * as fs from "fs";
import * as YAML from "yaml";
import { Model } from "./model";
import { NAMESPACE, RawConfig, validate } from "./validate";

/** The `homelab:*` keys of a stack file's `config:` map, without the prefix. */
export function rawConfigOf(config: Record<string, unknown>): RawConfig {
    const raw: RawConfig = {};
    for (const [k, v] of Object.entries(config))
        if (k.startsWith(`${NAMESPACE}:`) && k !== `${NAMESPACE}:secrets`) raw[k.slice(NAMESPACE.length + 1)] = v;
    return raw;
}

/** Validates a stack file's config. Secret values are not needed, so secretEnv is not checked. */
export function modelFromStackFile(file: string): Model {
    const doc = YAML.parse(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
    return validate(rawConfigOf(doc?.config ?? {}));
}
