// The shell scripts the program runs (through @pulumi/command) live as .sh files in shell/, where
// shellcheck reads them and a person can run them by hand; this module hands their text to the
// components. Values reach a script only as environment variables, never spliced into its text.
import * as fs from "fs";
import * as path from "path";
import { UNPACK } from "./reload";

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

/** The in-container writer of public files (shell/public-files-write.sh) with the unpack function it needs. */
export function publicFilesWrite(): string {
    return `${UNPACK}${shellScript("public-files-write")}`;
}
