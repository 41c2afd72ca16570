// The shell scripts the program runs (through @pulumi/command, `docker exec`, SSH) live as .sh
// files in shell/, where shellcheck reads them and a person can run them by hand; this module hands
// their text to the components. Values reach a script only as environment variables, never spliced
// into its text. Scripts that read a file bundle on stdin get shell/lib.sh (unpack, require) in
// front of them: they run through `sh -c`, where nothing can be sourced.
import * as fs from "fs";
import * as path from "path";

export const SHELL_DIR = path.join(__dirname, "..", "shell");

const cache = new Map<string, string>();

/** The text of shell/<name>.sh. */
export function shellScript(name: string): string {
    if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`internal: bad script name ${name}`);
    let text = cache.get(name);
    if (text === undefined) {
        text = fs.readFileSync(path.join(SHELL_DIR, `${name}.sh`), "utf8");
        cache.set(name, text);
    }
    return text;
}

/** shell/<name>.sh with the shared library (shell/lib.sh) in front of it. */
export function withLib(name: string): string {
    return `${shellScript("lib")}${shellScript(name)}`;
}
