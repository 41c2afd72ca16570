// The dashboard's config (Glance, homelab:dashboard): every service with its URL per plane, a list
// of links per host. Pure: the same model gives the same bytes; nothing secret is in it.
import { stringify } from "yaml";
import { Model, PLANES, Plane, hostOf } from "../stacks/model";
import { GLANCE } from "../stacks/monitoring";
import { serviceUrl } from "../stacks/naming";
import { EDGE_GROUP } from "./gatus";

/** How each plane is named on the dashboard: who the link is for. */
export const PLANE_TITLE: Record<Plane, string> = {
    private: "On the tailnet",
    mtls: "With a certificate",
    public: "Public",
};

interface Link {
    title: string;
    url: string;
}

/** Host → plane → links, hosts in order (the edge host first), services by name. */
export function dashboardLinks(model: Model): { host: string; groups: { plane: Plane; links: Link[] }[] }[] {
    const hosts = [EDGE_GROUP, ...model.hosts.map((h) => h.name)];
    return hosts
        .map((host) => {
            const here = model.services.filter((s) => (hostOf(s) ?? EDGE_GROUP) === host);
            const groups = PLANES.map((plane) => ({
                plane,
                links: here.flatMap((s) => {
                    const url = serviceUrl(s, plane);
                    return url ? [{ title: s.name, url }] : [];
                }),
            })).filter((g) => g.links.length > 0);
            return { host, groups };
        })
        .filter((h) => h.groups.length > 0);
}

export function renderGlanceConfig(model: Model): string {
    const d = model.dashboard;
    if (!d) throw new Error("internal: no homelab:dashboard");
    const widgets = dashboardLinks(model).map((h) => ({
        type: "bookmarks",
        title: h.host,
        groups: h.groups.map((g) => ({
            title: PLANE_TITLE[g.plane],
            links: g.links.map((l) => ({ title: l.title, url: l.url })),
        })),
    }));
    const config = {
        server: { port: GLANCE.port },
        pages: [
            {
                name: d.title,
                columns: [{ size: "full", widgets }],
            },
        ],
    };
    return (
        `# Rendered by homelab for ${model.domain} (dashboard); do not edit: pulumi up rewrites it.\n` +
        stringify(config, { lineWidth: 0, sortMapEntries: false })
    );
}
