// The Glance dashboard config (github.com/glanceapp/glance) that homelab generates, written down from Glance's own
// source at GLANCE_SOURCE so tests can check it without running Glance (the Go module proxy refuses to build it here).
// It covers the subset we generate: server, document, theme, branding, pages and columns, and the widgets monitor,
// bookmarks, group and split-column. Every rule carries a tag saying where it comes from:
//   [glance]  Glance refuses to load the config (at startup it exits; on a live reload it keeps the old config);
//   [crash]   Glance loads it but panics at runtime (found by reading the code);
//   [docs]    docs/configuration.md@v0.7.13 says so, the code does not enforce it (it silently does something odd);
//   [homelab] our own policy, stricter than Glance, so mistakes in generated config surface in tests.
// Glance itself does NOT reject unknown keys: internal/glance/config.go@v0.7.13 decodes with yaml.v3's plain
// yaml.Unmarshal (no Decoder.KnownFields), and widgets are node.Decode'd the same way (internal/glance/widget.go), so
// a misspelt or newer-version key is silently ignored. Every object here is .strict() [homelab] so that it is not.
// What yaml.v3 does reject, and this schema mirrors: a non-integer or out-of-range port, a string where a bool/int is
// expected ("true" quoted is not a bool). It also rejects duplicate keys in one mapping, which a parsed object cannot
// show (the `yaml` package rejects them too by default). It accepts any scalar where a string is expected
// (title: 123 becomes "123"); we ask for real strings [homelab].
import { z } from "zod";

export const GLANCE_SOURCE = {
    repo: "glanceapp/glance",
    tag: "v0.7.13",
    commit: "ea04aec0b4efafe965ee8083dc5b525013367f88",
} as const;

/** Facts about the official image at GLANCE_SOURCE.tag (Dockerfile.goreleaser@v0.7.13, which the release uses). */
export const GLANCE_IMAGE = {
    image: `glanceapp/glance:${GLANCE_SOURCE.tag}`,
    /** ENTRYPOINT ["/app/glance", "--config", "/app/config/glance.yml"]; mount the directory, not the file. */
    configPath: "/app/config/glance.yml",
    configDir: "/app/config",
    /** EXPOSE 8080/tcp; also config.go's default for server.port. */
    port: 8080,
    /** HEALTHCHECK (dropped from the image in v0.8.4); it hard-codes port 8080, so keep server.port at 8080. */
    healthcheck: "wget --spider -q http://localhost:8080/api/healthz",
    /** No USER instruction: the process runs as root (uid 0) in an alpine:3.21 image. */
    user: "root",
} as const;

/** Every widget `type` Glance knows at the tag (internal/glance/widget.go@v0.7.13 newWidget; "stocks" = markets). */
export const GLANCE_WIDGET_TYPES = [
    "calendar",
    "calendar-legacy",
    "clock",
    "weather",
    "bookmarks",
    "iframe",
    "html",
    "hacker-news",
    "releases",
    "videos",
    "markets",
    "stocks",
    "reddit",
    "rss",
    "monitor",
    "twitch-top-games",
    "twitch-channels",
    "lobsters",
    "change-detection",
    "repository",
    "search",
    "extension",
    "group",
    "dns-stats",
    "split-column",
    "custom-api",
    "docker-containers",
    "server-stats",
] as const;

/** The widget types this schema models. */
export const MODELLED_WIDGET_TYPES = ["monitor", "bookmarks", "group", "split-column"] as const;

// ---- types (written out because widgets nest through group/split-column) ----

export interface GlanceWidgetBase {
    title?: string;
    "title-url"?: string;
    "css-class"?: string;
    cache?: string;
}
export interface GlanceMonitorSite {
    title: string;
    url: string;
    "check-url"?: string;
    "error-url"?: string;
    icon?: string;
    "allow-insecure"?: boolean;
    "same-tab"?: boolean;
    "alt-status-codes"?: number[];
}
export interface GlanceMonitorWidget extends GlanceWidgetBase {
    type: "monitor";
    sites: GlanceMonitorSite[];
    style?: "compact";
    "show-failing-only"?: boolean;
}
export interface GlanceBookmarkLink {
    title: string;
    url: string;
    icon?: string;
    "same-tab"?: boolean;
    "hide-arrow"?: boolean;
    target?: LinkTarget;
}
export interface GlanceBookmarkGroup {
    title?: string;
    color?: string;
    "same-tab"?: boolean;
    "hide-arrow"?: boolean;
    target?: LinkTarget;
    links: GlanceBookmarkLink[];
}
export interface GlanceBookmarksWidget extends GlanceWidgetBase {
    type: "bookmarks";
    groups: GlanceBookmarkGroup[];
}
export interface GlanceGroupWidget extends GlanceWidgetBase {
    type: "group";
    widgets: GlanceWidget[];
}
export interface GlanceSplitColumnWidget extends GlanceWidgetBase {
    type: "split-column";
    "max-columns"?: number;
    widgets: GlanceWidget[];
}
export type GlanceWidget = GlanceMonitorWidget | GlanceBookmarksWidget | GlanceGroupWidget | GlanceSplitColumnWidget;
type LinkTarget = "_blank" | "_self" | "_parent" | "_top";

// ---- leaf values ----

/** Keys that only exist from Glance v0.8.0 (ignored by v0.7.13), so an unknown-key message can say so. */
type NewerKeys = Record<string, string>;
const V08 = "only exists from Glance v0.8.0; v0.7.13 silently ignores it";

/** A .strict() object whose unknown-key message names the key and, for keys of later versions, says so. */
function strictObject<S extends z.ZodRawShape>(what: string, shape: S, newer: NewerKeys = {}) {
    return z
        .object(shape, {
            error: (iss) => {
                if (iss.code === "unrecognized_keys")
                    return iss.keys
                        .map((k) =>
                            newer[k]
                                ? `key "${k}" ${newer[k]}`
                                : `unknown key "${k}" in ${what} (Glance ignores unknown keys; rejected here so typos show)`,
                        )
                        .join("; ");
                if (iss.code === "invalid_type") return `${what} must be a map`;
                return undefined;
            },
        })
        .strict();
}

const str = (what: string) =>
    z.string({ error: (iss) => (iss.input === undefined ? `${what} is required` : `${what} must be a string`) });
/** An integer in [min, max]; yaml.v3 rejects a quoted number or a float for Go's int types [glance]. */
const int = (what: string, min: number, max: number) =>
    z
        .int({
            error: (iss) =>
                iss.code === "too_small" || iss.code === "too_big"
                    ? `${what} must be between ${min} and ${max}`
                    : `${what} must be an integer`,
        })
        .min(min)
        .max(max);
/** A number (Go float32) above `min` (or at it, when inclusive). */
const num = (what: string, min: number, inclusive: boolean) =>
    z.number({ error: `${what} must be a number` }).refine((v) => (inclusive ? v >= min : v > min), {
        error: `${what} must be ${inclusive ? "at least" : "above"} ${min}`,
    });
const nonEmpty = (what: string) => str(what).min(1, { error: `${what} must not be empty` });
const bool = (what: string) => z.boolean({ error: `${what} must be true or false (unquoted)` });

// internal/glance/config-fields.go@v0.7.13 hslColorFieldPattern and hslColorField.UnmarshalYAML [glance]:
// integers only at this tag ("240 13 95", "240, 13%, 95%", "hsl(240, 13%, 95%)"); hue <= 360, saturation and
// lightness <= 100. Go's `\d` is ASCII like JavaScript's.
const HSL_RE = /^(?:hsla?\()?(\d{1,3})(?: |,)+(\d{1,3})%?(?: |,)+(\d{1,3})%?\)?$/;
export function hslProblem(v: string): string | undefined {
    const m = HSL_RE.exec(v);
    if (!m) return `invalid HSL color format: ${v} (want integers "H S L", e.g. "240 13 95")`;
    if (Number(m[1]) > 360) return "HSL hue must be between 0 and 360";
    if (Number(m[2]) > 100) return "HSL saturation must be between 0 and 100";
    if (Number(m[3]) > 100) return "HSL lightness must be between 0 and 100";
    return undefined;
}
const hsl = (what: string) =>
    str(what).superRefine((v, ctx) => {
        const p = hslProblem(v);
        if (p) ctx.addIssue({ code: "custom", message: p });
    });

// internal/glance/config-fields.go@v0.7.13 durationFieldPattern [glance]: one integer and one unit, s|m|h|d
// ("90s", "5m"; not "1m30s", not a bare number).
const DURATION_RE = /^(\d+)(s|m|h|d)$/;
const duration = (what: string) =>
    str(what).regex(DURATION_RE, { error: `${what}: invalid duration format (want <integer><s|m|h|d>, e.g. "5m")` });

/** An absolute http(s) URL with a host: what Go's http.Client can request. */
export function isHttpUrl(v: string): boolean {
    let u: URL;
    try {
        u = new URL(v);
    } catch {
        return false;
    }
    return (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "";
}
// internal/glance/widget-monitor.go@v0.7.13 fetchSiteStatusTask: the check URL goes to http.NewRequest + Client.Do,
// so anything but an absolute http(s) URL shows ERROR ("unsupported protocol scheme") [docs]; link URLs are put in
// href through safeURL unchecked, and we want absolute http(s) links there too [homelab].
const httpUrl = (what: string) =>
    str(what).refine(isHttpUrl, { error: `${what} must be an absolute http:// or https:// URL` });

// internal/glance/config-fields.go@v0.7.13 newCustomIconField: "si:NAME" (Simple Icons), "di:NAME[.svg|.png]"
// (homarr-labs dashboard-icons), "sh:NAME[.svg|.png]" (selfh.st icons); anything else is used as the URL verbatim,
// so "mdi:x" or "auto-invert si:x" (both v0.8.0+) become broken image URLs. We allow those prefixes, absolute
// http(s) URLs and server paths like /assets/x.png [homelab].
export function iconProblem(v: string): string | undefined {
    if (/^(si|di|sh):[^\s:]+$/.test(v)) return undefined;
    if (isHttpUrl(v)) return undefined;
    if (v.startsWith("/") && !v.startsWith("//")) return undefined;
    if (/^(mdi:|auto-invert )/.test(v))
        return `icon "${v}": this icon syntax only exists from Glance v0.8.0; v0.7.13 would use it as an image URL`;
    return `icon "${v}" must be si:NAME, di:NAME, sh:NAME, an absolute http(s) URL or a /path (e.g. /assets/x.svg)`;
}
const icon = (what: string) =>
    str(what).superRefine((v, ctx) => {
        const p = iconProblem(v);
        if (p) ctx.addIssue({ code: "custom", message: p });
    });

// docs/configuration.md@v0.7.13 (Bookmarks, target): "_blank", "_self", "_parent" or "_top" [docs].
const target = z.enum(["_blank", "_self", "_parent", "_top"], {
    error: "target must be one of _blank, _self, _parent, _top",
});

// ---- widgets ----

// internal/glance/widget.go@v0.7.13 widgetBase: the keys every widget accepts besides `type`.
const widgetBase = {
    title: str("title").optional(),
    "title-url": httpUrl("title-url").optional(),
    "css-class": str("css-class").optional(),
    cache: duration("cache").optional(), // durationField; 0 means the widget's default (monitor: 5m)
};
const WIDGET_NEWER: NewerKeys = { "hide-header": V08 };

// internal/glance/widget-monitor.go@v0.7.13 monitorWidget.Sites and SiteStatusRequest.
const monitorSite = strictObject(
    "monitor site",
    {
        // docs/configuration.md@v0.7.13 lists title as required [docs]; empty renders an empty link.
        title: nonEmpty("title"),
        // url is required [docs] and more: url, check-url and allow-insecure live in an embedded *SiteStatusRequest
        // that yaml.v3 only allocates when one of them is present; with none, update() dereferences nil and the
        // panic in its goroutine kills the whole process on the first page load [crash].
        url: httpUrl("url"),
        "check-url": httpUrl("check-url").optional(),
        "error-url": httpUrl("error-url").optional(),
        icon: icon("icon").optional(),
        "allow-insecure": bool("allow-insecure").optional(),
        "same-tab": bool("same-tab").optional(),
        // []int [glance]; status codes 100..599 [homelab].
        "alt-status-codes": z
            .array(int("alt-status-codes entries", 100, 599), {
                error: "alt-status-codes must be a list of integers",
            })
            .optional(),
    },
    {
        timeout: `${V08} (the check timeout is fixed at 3s in v0.7.13 fetchSiteStatusTask)`,
        "basic-auth": V08,
    },
);
const monitorWidget = strictObject(
    "monitor widget",
    {
        type: z.literal("monitor"),
        ...widgetBase,
        // docs/configuration.md@v0.7.13: sites is required [docs]; at least one [homelab].
        sites: z.array(monitorSite, { error: "sites must be a list" }).min(1, { error: "sites must not be empty" }),
        // widget-monitor.go Render: "compact" picks monitor-compact.html, any other value the default [docs].
        style: z.literal("compact", { error: 'style can only be "compact" (or left out)' }).optional(),
        "show-failing-only": bool("show-failing-only").optional(),
    },
    WIDGET_NEWER,
);

// internal/glance/widget-bookmarks.go@v0.7.13 bookmarksWidget.Groups and .Links; same-tab, hide-arrow and target
// set on a group are defaults for its links (initialize()).
const bookmarkLink = strictObject(
    "bookmark link",
    {
        title: nonEmpty("title"), // required [docs]
        url: httpUrl("url"), // required [docs]; absolute http(s) [homelab]
        icon: icon("icon").optional(),
        "same-tab": bool("same-tab").optional(),
        "hide-arrow": bool("hide-arrow").optional(),
        target: target.optional(),
    },
    { description: V08 },
);
const bookmarkGroup = strictObject("bookmark group", {
    title: str("title").optional(),
    color: hsl("color").optional(), // *hslColorField [glance]
    "same-tab": bool("same-tab").optional(),
    "hide-arrow": bool("hide-arrow").optional(),
    target: target.optional(),
    // links is required [docs]; at least one [homelab].
    links: z.array(bookmarkLink, { error: "links must be a list" }).min(1, { error: "links must not be empty" }),
});
const bookmarksWidget = strictObject(
    "bookmarks widget",
    {
        type: z.literal("bookmarks"),
        ...widgetBase,
        // groups is required [docs]; at least one [homelab].
        groups: z
            .array(bookmarkGroup, { error: "groups must be a list" })
            .min(1, { error: "groups must not be empty" }),
    },
    WIDGET_NEWER,
);

const childWidgets = (what: string) =>
    z
        .array(
            z.lazy(() => glanceWidgetSchema),
            { error: `${what}: widgets must be a list` },
        )
        .min(1, { error: `${what}: widgets must not be empty` }); // [homelab]; Glance renders an empty container

// internal/glance/widget-group.go@v0.7.13 (containerWidgetBase in widget-container.go): children render as tabs
// titled by their own title; initialize() rejects group and split-column children [glance].
const groupWidget = strictObject(
    "group widget",
    {
        type: z.literal("group"),
        ...widgetBase,
        widgets: childWidgets("group"),
    },
    WIDGET_NEWER,
).superRefine(
    (w, ctx) => {
        if (!isRecord(w)) return;
        const children: unknown[] = Array.isArray(w.widgets) ? w.widgets : [];
        children.forEach((c, i) => {
            const type = isRecord(c) ? c.type : undefined;
            if (type === "group")
                ctx.addIssue({ code: "custom", path: ["widgets", i], message: "nested groups are not supported" });
            else if (type === "split-column")
                ctx.addIssue({
                    code: "custom",
                    path: ["widgets", i],
                    message: "split columns inside of groups are not supported",
                });
        });
    },
    { when: () => true },
);

// internal/glance/widget-split-column.go@v0.7.13: max-columns below 2 silently becomes 2; we ask for >= 2 [homelab].
const splitColumnWidget = strictObject(
    "split-column widget",
    {
        type: z.literal("split-column"),
        ...widgetBase,
        "max-columns": int("max-columns", 2, 16).optional(),
        widgets: childWidgets("split-column"),
    },
    WIDGET_NEWER,
);

// internal/glance/widget.go@v0.7.13 widgets.UnmarshalYAML + newWidget: the `type` key picks the widget (case
// sensitive); an unknown or missing type is "unknown widget type: X" [glance].
function widgetTypeMessage(input: unknown): string {
    const type = isRecord(input) ? input.type : undefined;
    if (!isRecord(input)) return "a widget must be a map with a type";
    if (type === undefined || type === "") return "unknown widget type: (no type key)";
    if (typeof type === "string" && (GLANCE_WIDGET_TYPES as readonly string[]).includes(type))
        return `widget type "${type}" exists in Glance but this schema only models ${MODELLED_WIDGET_TYPES.join(", ")}`;
    return `unknown widget type: ${String(type)}`;
}
export const glanceWidgetSchema: z.ZodType<GlanceWidget> = z.lazy(() =>
    z.discriminatedUnion("type", [monitorWidget, bookmarksWidget, groupWidget, splitColumnWidget], {
        error: (iss) =>
            iss.code === "invalid_union" || iss.code === "invalid_type" ? widgetTypeMessage(iss.input) : undefined,
    }),
);

// ---- server, document, theme, branding ----

// internal/glance/config.go@v0.7.13 config.Server.
const server = strictObject(
    "server",
    {
        host: str("host").optional(), // "" listens on all interfaces
        // uint16, default 8080 [glance]; 0 would mean a random port, the docs say 1..65535 [docs]. The image's
        // HEALTHCHECK only probes 8080.
        port: int("port", 1, 65535).optional(),
        // config.go isConfigStateValid: os.Stat must find it inside the container [glance] (not checkable here).
        // Served under /assets/.
        "assets-path": nonEmpty("assets-path").optional(),
        // glance.go newApplication trims trailing "/"; docs: must start with "/" unless a full URL [docs]. Routes
        // are NOT prefixed: the reverse proxy must strip it.
        "base-url": str("base-url")
            .refine((v) => v === "" || v.startsWith("/") || isHttpUrl(v), {
                error: 'base-url must start with "/" (or be a full http(s) URL)',
            })
            .optional(),
    },
    { proxied: V08 },
);

// internal/glance/config.go@v0.7.13 config.Document: head is inserted verbatim into <head>.
const document = strictObject("document", { head: str("head").optional() });

// internal/glance/config.go@v0.7.13 config.Theme (float32 multipliers, *hslColorField colors).
const theme = strictObject(
    "theme",
    {
        "background-color": hsl("background-color").optional(),
        "primary-color": hsl("primary-color").optional(),
        "positive-color": hsl("positive-color").optional(),
        "negative-color": hsl("negative-color").optional(),
        light: bool("light").optional(),
        // Glance takes any float; 0 or less makes text invisible [homelab].
        "contrast-multiplier": num("contrast-multiplier", 0, false).optional(),
        "text-saturation-multiplier": num("text-saturation-multiplier", 0, true).optional(),
        "custom-css-file": str("custom-css-file").optional(),
    },
    { presets: V08, "disable-picker": V08 },
);

// internal/glance/config.go@v0.7.13 config.Branding (custom-footer is raw HTML).
const branding = strictObject(
    "branding",
    {
        "hide-footer": bool("hide-footer").optional(),
        "custom-footer": str("custom-footer").optional(),
        "logo-text": str("logo-text").optional(),
        "logo-url": str("logo-url").optional(),
        "favicon-url": str("favicon-url").optional(),
    },
    { "app-name": V08, "app-icon-url": V08, "app-background-color": V08 },
);

// ---- pages and columns ----

// internal/glance/config.go@v0.7.13 page.Columns and isConfigStateValid: size is "small" or "full" [glance];
// widgets may be left out (an empty column).
const column = strictObject("column", {
    size: z.enum(["small", "full"], { error: "size can only be either small or full" }),
    widgets: z.array(glanceWidgetSchema, { error: "widgets must be a list" }).optional(),
});

// internal/glance/config.go@v0.7.13 page + isConfigStateValid.
const page = strictObject(
    "page",
    {
        name: nonEmpty("name"), // "page N has no name" [glance]
        slug: str("slug").optional(), // empty: titleToSlug(name) in glance.go (lowercase, whitespace runs to "-")
        width: z.enum(["wide", "slim"], { error: "width can only be either wide or slim" }).optional(), // [glance]
        "center-vertically": bool("center-vertically").optional(),
        "hide-desktop-navigation": bool("hide-desktop-navigation").optional(),
        "expand-mobile-page-navigation": bool("expand-mobile-page-navigation").optional(), // removed in v0.8.0
        "show-mobile-header": bool("show-mobile-header").optional(),
        // "page N has no columns" [glance]
        columns: z.array(column, { error: "columns must be a list" }).min(1, { error: "page has no columns" }),
    },
    { "head-widgets": V08, "desktop-navigation-width": V08 },
).superRefine(
    (p, ctx) => {
        if (!isRecord(p)) return;
        const cols: unknown[] = Array.isArray(p.columns) ? p.columns : [];
        // at most 3 columns, at most 2 on a slim page [glance]
        if (p.width === "slim" && cols.length > 2)
            ctx.addIssue({
                code: "custom",
                path: ["columns"],
                message: "page is slim and cannot have more than 2 columns",
            });
        else if (cols.length > 3)
            ctx.addIssue({ code: "custom", path: ["columns"], message: "page has more than 3 columns" });
        // one or two full columns [glance]
        const full = cols.filter((c) => isRecord(c) && c.size === "full").length;
        if (cols.length > 0 && (full === 0 || full > 2))
            ctx.addIssue({
                code: "custom",
                path: ["columns"],
                message: `page must have either 1 or 2 full width columns (has ${full})`,
            });
    },
    { when: () => true },
);

/** What Glance serves a page under: its slug, or titleToSlug(name) (internal/glance/utils.go@v0.7.13). */
export function effectiveSlug(p: { name?: unknown; slug?: unknown }): string {
    if (typeof p.slug === "string" && p.slug !== "") return p.slug;
    const name = typeof p.name === "string" ? p.name : "";
    return name
        .toLowerCase()
        .replace(/\s+/g, "-")
        .replace(/^-+|-+$/g, "");
}
// [homelab] URL-path-safe slugs (glance.go routes "GET /{page}", one path segment; nav hrefs are BaseURL/slug).
const SLUG_RE = /^[A-Za-z0-9_~-][A-Za-z0-9._~-]*$/;

export const glanceConfigSchema = strictObject(
    "config",
    {
        server: server.optional(),
        document: document.optional(),
        theme: theme.optional(),
        branding: branding.optional(),
        // "no pages configured" [glance]; the first page is also served at "/".
        pages: z
            .array(page, { error: (iss) => (iss.input === undefined ? "no pages configured" : "pages must be a list") })
            .min(1, { error: "no pages configured" }),
    },
    { auth: V08 },
).superRefine(
    (cfg, ctx) => {
        if (!isRecord(cfg)) return;
        const pages: unknown[] = Array.isArray(cfg.pages) ? cfg.pages : [];
        const seen = new Map<string, number>();
        pages.forEach((p, i) => {
            if (!isRecord(p)) return;
            const slug = effectiveSlug(p);
            // glance.go newApplication fills slugToPage without a uniqueness check: a later page silently takes
            // the URL of an earlier one, and an empty slug takes "/" from the first page [homelab].
            if (slug === "")
                ctx.addIssue({
                    code: "custom",
                    path: ["pages", i],
                    message: "page slug (or the name it comes from) is empty",
                });
            else if (!SLUG_RE.test(slug))
                ctx.addIssue({
                    code: "custom",
                    path: ["pages", i],
                    message: `page slug "${slug}" is not URL-path safe (letters, digits, ".", "_", "~", "-"); set slug`,
                });
            else if (seen.has(slug))
                ctx.addIssue({
                    code: "custom",
                    path: ["pages", i],
                    message: `page slug "${slug}" is also used by page ${seen.get(slug)! + 1}; Glance would serve only one`,
                });
            else seen.set(slug, i);
        });
        // glance.go server(): /assets/ is only routed when server.assets-path is set [homelab].
        const assetsPath = isRecord(cfg.server) ? cfg.server["assets-path"] : undefined;
        if (!assetsPath)
            for (const [path, value] of strings(cfg, []))
                if (value.startsWith("/assets/"))
                    ctx.addIssue({
                        code: "custom",
                        path,
                        message: `"${value}" needs server.assets-path (Glance only serves /assets/ when it is set)`,
                    });
    },
    { when: () => true },
);

export type GlanceConfig = z.infer<typeof glanceConfigSchema>;

// ---- ${ENV} substitution and !include, which Glance applies to the raw text before YAML parsing ----

// internal/glance/config.go@v0.7.13 configEnvVariablePattern `(^|.)\$\{([A-Z0-9_]+)\}` + parseConfigEnvVariables,
// applied to the whole file text (comments included) before YAML parsing, on every load and reload:
//  - only upper-case names [A-Z0-9_]+; `${lower}` is left as is;
//  - an unset variable is an error: "environment variable X not found" [glance];
//  - `\${X}` is the escape: the backslash is dropped and `${X}` stays literal (so `\\${X}` yields `\${X}`);
//  - the match needs one character before `$` on the same line (Go's `.` excludes "\n" and `^` is start of file
//    only), so `${X}` at column 0 of any line but the first is NOT substituted, and in `${A}${B}` only A is;
//  - `$` on its own, or followed by anything else, is untouched.
// Mirrored exactly ([^\n] for Go's `.`):
const ENV_RE = /(^|[^\n])\$\{([A-Z0-9_]+)\}/g;

export interface GlanceEnvReference {
    name: string;
    /** 1-based line of the `$`. */
    line: number;
    /** `\${NAME}`: Glance leaves `${NAME}` literally instead of substituting. */
    escaped: boolean;
}

/** The `${NAME}` references Glance would act on in a config file's raw text, in order. */
export function glanceEnvReferences(text: string): GlanceEnvReference[] {
    const refs: GlanceEnvReference[] = [];
    for (const m of text.matchAll(ENV_RE)) {
        const at = m.index + m[1].length;
        refs.push({ name: m[2], line: text.slice(0, at).split("\n").length, escaped: m[1] === "\\" });
    }
    return refs;
}

// internal/glance/config.go@v0.7.13 includePattern `(?m)^(\s*)!include:\s*(.+)$` (parseYAMLIncludes): a line of
// `!include: path` anywhere, even inside a block scalar, is replaced by that file, indented to match.
const INCLUDE_RE = /^[^\S\n]*!include:[^\S\n]*\S.*$/gm;

export interface GlanceProblemOptions {
    /** Environment variables the container is given; `${NAME}` for these is allowed. Default none. */
    env?: readonly string[];
}

/**
 * Problems with a config file's raw text that parsing cannot show: `${NAME}` Glance would substitute (an error at
 * load unless NAME is in options.env), escaped `\${NAME}`, and `!include:` lines. Empty when there are none.
 */
export function glanceTextProblems(text: string, options: GlanceProblemOptions = {}): string[] {
    const allowed = new Set(options.env ?? []);
    const problems: string[] = [];
    for (const r of glanceEnvReferences(text)) {
        if (r.escaped)
            problems.push(`line ${r.line}: \\\${${r.name}} is Glance's escape; it loads as the literal \${${r.name}}`);
        else if (!allowed.has(r.name))
            problems.push(
                `line ${r.line}: \${${r.name}} is replaced by the ${r.name} environment variable before parsing; ` +
                    `Glance refuses to load the config when it is unset`,
            );
    }
    for (const m of text.matchAll(INCLUDE_RE))
        problems.push(`line ${text.slice(0, m.index).split("\n").length}: "${m[0].trim()}" is an include directive`);
    return problems;
}

// ---- the one entry point for tests ----

/**
 * Readable problems with a parsed Glance config (empty when valid): the schema's issues as "path: message", plus
 * string values holding `${NAME}` for a NAME not in options.env (Glance substitutes those before parsing, wherever
 * the serializer puts them; escaping with a backslash depends on the YAML quoting style, so avoid it).
 */
export function glanceProblems(config: unknown, options: GlanceProblemOptions = {}): string[] {
    const problems: string[] = [];
    const result = glanceConfigSchema.safeParse(config);
    if (!result.success)
        for (const issue of result.error.issues) problems.push(`${formatPath(issue.path)}: ${issue.message}`);
    const allowed = new Set(options.env ?? []);
    for (const [path, value] of strings(config, []))
        for (const m of value.matchAll(/\$\{([A-Z0-9_]+)\}/g))
            if (value[m.index - 1] === "\\")
                problems.push(
                    `${formatPath(path)}: "\\${m[0]}" relies on Glance's backslash escape, which YAML quoting can ` +
                        `change (a double-quoted "\\$" is not even valid YAML); avoid "\${" in values`,
                );
            else if (!allowed.has(m[1]))
                problems.push(
                    `${formatPath(path)}: "${m[0]}" would be replaced by Glance with the ${m[1]} environment ` +
                        `variable (and fail to load when unset); pass it in options.env if that is intended`,
                );
    return [...new Set(problems)];
}

function formatPath(path: readonly PropertyKey[]): string {
    let out = "";
    for (const p of path) out += typeof p === "number" ? `[${p}]` : out === "" ? String(p) : `.${String(p)}`;
    return out === "" ? "(config)" : out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Every string value in a parsed document, with its path. */
function strings(v: unknown, path: (string | number)[]): [(string | number)[], string][] {
    if (typeof v === "string") return [[path, v]];
    if (Array.isArray(v)) return v.flatMap((x, i) => strings(x, [...path, i]));
    if (isRecord(v)) return Object.entries(v).flatMap(([k, x]) => strings(x, [...path, k]));
    return [];
}
