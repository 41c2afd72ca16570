// The certificate profiles of the client CA, as data. Pure.
import { User } from "../stacks/model";

export const CA_VALIDITY_HOURS = 10 * 365 * 24 + 2 * 24; // ten years (with leap days)
export const CA_ALLOWED_USES = ["cert_signing", "crl_signing"];
export const CLIENT_ALLOWED_USES = ["digital_signature", "client_auth"];
export const P12_PASSWORD_LENGTH = 24;

/**
 * Hours before expiry from which `pulumi up` replaces a user's certificate: a third of its
 * validity, at most 30 days. A monthly `pulumi up` then always renews a yearly certificate in
 * time, and a short-lived one still spends most of its life valid.
 */
export function earlyRenewalHours(validityDays: number): number {
    return Math.max(1, Math.min(30 * 24, Math.floor((validityDays * 24) / 3)));
}

export function caSubject(stack: string): { commonName: string; organization: string } {
    return { commonName: `homelab ${stack} client CA`, organization: "homelab" };
}

/** Defensive re-check of the users list (config validation has already reported these). */
export function userProblems(users: User[]): string[] {
    const problems: string[] = [];
    const seen = new Set<string>();
    users.forEach((u, i) => {
        if (!/^[a-z0-9][a-z0-9._-]{0,62}$/.test(u.name))
            problems.push(`homelab:users[${i}].name: "${u.name}" is not a safe certificate CN and file name`);
        if (seen.has(u.name)) problems.push(`homelab:users[${i}].name: "${u.name}" is listed twice`);
        seen.add(u.name);
        if (!Number.isInteger(u.validityDays) || u.validityDays < 1 || u.validityDays > 825)
            problems.push(`homelab:users[${i}].validityDays: must be 1-825 days`);
    });
    return problems;
}
