// A Caddyfile as a tree, and the one marshaller that writes it. A renderer builds nodes; only
// marshal() turns them into text, so indentation, braces and quoting live here and nowhere else,
// and every token is checked on its way out:
//   - a Value (val()) is data from the stack: it must be a plain Caddyfile token (no whitespace,
//     quotes, braces or #), so it can never open a block, start a comment or expand a placeholder;
//   - a literal (a plain string) is the program's own text: a word, or a quoted string without
//     quotes or backslashes inside; braces only as Caddy placeholders such as {env.NAME}.
// Pure and deterministic.
import { caddyTokenProblem } from "../stacks/grammar";

/** Data that came from the stack config, checked as a plain Caddyfile token. */
export interface Value {
    readonly value: string;
    readonly what: string;
}
export type Token = string | Value;

export interface Directive {
    /** The directive, matcher, site address or snippet name; "" for the global options block. */
    readonly name: Token;
    readonly args?: readonly Token[];
    /** A block: `name args {` … `}`. */
    readonly body?: readonly Node[];
}
export interface Comment {
    readonly comment: string;
}
export type Blank = { readonly blank: true };
export type Node = Directive | Comment | Blank;

export const BLANK: Blank = { blank: true };

export function val(value: string, what: string): Value {
    return { value, what };
}

export function directive(name: Token, args: readonly Token[] = [], body?: readonly Node[]): Directive {
    return body === undefined ? { name, args } : { name, args, body };
}

export function block(name: Token, args: readonly Token[], body: readonly Node[]): Directive {
    return { name, args, body };
}

export function comment(text: string): Comment {
    return { comment: text };
}

/** `{name}` placeholders: Caddy expands them; nothing else may carry a brace. */
const PLACEHOLDER = /\{[A-Za-z0-9_.[\]-]+\}/g;

function literalProblem(token: string): string | undefined {
    if (token.length === 0) return "is empty";
    const quoted = token.length >= 2 && token.startsWith('"') && token.endsWith('"');
    const inner = quoted ? token.slice(1, -1) : token;
    if (/["\\]/.test(inner)) return "contains a quote or a backslash";
    if (/\p{Cc}/u.test(inner)) return "contains a control character";
    if (!quoted && /\s/.test(inner)) return "contains whitespace outside quotes";
    if (!quoted && inner.startsWith("#")) return "starts a comment";
    if (/[{}]/.test(inner.replace(PLACEHOLDER, ""))) return "contains a brace that is not a placeholder";
    return undefined;
}

function tokenText(token: Token): string {
    if (typeof token === "string") {
        const p = literalProblem(token);
        if (p) throw new Error(`internal: Caddyfile literal "${token}" ${p}`);
        return token;
    }
    const p = caddyTokenProblem(token.value);
    if (p) throw new Error(`internal: ${token.what} "${token.value}" ${p}`);
    return token.value;
}

function isComment(node: Node): node is Comment {
    return "comment" in node;
}
function isBlank(node: Node): node is Blank {
    return "blank" in node;
}

function directiveLines(node: Directive, depth: number): string[] {
    const indent = "\t".repeat(depth);
    const tokens = node.name === "" ? (node.args ?? []) : [node.name, ...(node.args ?? [])];
    const head = tokens.map(tokenText).join(" ");
    if (node.body === undefined) {
        if (head === "") throw new Error("internal: a Caddyfile directive without a name");
        return [indent + head];
    }
    const open = head === "" ? "{" : `${head} {`;
    return [indent + open, ...node.body.flatMap((n) => nodeLines(n, depth + 1)), `${indent}}`];
}

function nodeLines(node: Node, depth: number): string[] {
    if (isBlank(node)) return [""];
    if (isComment(node)) {
        if (/[\r\n]/.test(node.comment)) throw new Error("internal: a Caddyfile comment spans lines");
        return [`${"\t".repeat(depth)}# ${node.comment}`];
    }
    return directiveLines(node, depth);
}

/** The Caddyfile text of a tree: one line per node, tabs for depth, a newline at the end. */
export function marshal(nodes: readonly Node[]): string {
    return nodes.flatMap((n) => nodeLines(n, 0)).join("\n") + "\n";
}
