// Aliases for resources that users already have in state under an older name or parent, so a
// rename never makes `pulumi up` replace a running container or a DNS record.
import * as pulumi from "@pulumi/pulumi";

/** A resource that used to be the child `name` of the top-level component `parentName` (of `parentType`). */
export function formerChild(parentType: string, parentName: string, name: string): pulumi.Alias {
    return { name, parent: pulumi.createUrn(parentName, parentType) };
}

/** A resource that used to be registered at the top level (no parent) as `name`. */
export function formerTopLevel(name: string): pulumi.Alias {
    return { name, parent: pulumi.rootStackResource };
}
