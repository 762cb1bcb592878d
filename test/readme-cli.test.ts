// Issue 13 regression: the README documented `closeloop schedule`, `runs` and `rollback`
// while the command line answered `unknown command`. This test reads every `closeloop ...`
// command the README shows (inline code and code blocks), runs `closeloop <command> --help`
// through the real binary for each, and checks that every flag the README gives that
// command appears in its usage, so the documentation and the CLI cannot drift apart.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.ts';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** Every documented invocation: command name -> flags shown with it anywhere in the README. */
function documentedCommands(text: string): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  const add = (cmd: string, rest: string) => {
    const flags = found.get(cmd) ?? new Set<string>();
    for (const f of rest.matchAll(/(?<![\w-])--[a-z][a-z-]*/g)) flags.add(f[0]);
    found.set(cmd, flags);
  };
  // Commands are code that starts with the command (after environment settings, or after
  // `&&` in a code block); prose that merely mentions "closeloop" is not one.
  const invocation = /(?:^|&&\s*)(?:[A-Z_]+=\S+\s+)*(?:npx )?closeloop ([a-z][a-z-]*)([^&#]*)/g;
  for (const m of text.matchAll(/```[a-z]*\n([\s\S]*?)```/g)) {
    for (const line of m[1]!.split('\n')) for (const c of line.trim().matchAll(invocation)) add(c[1]!, c[2]!);
  }
  for (const m of text.replace(/```[\s\S]*?```/g, '').matchAll(/`([^`\n]+)`/g)) {
    for (const c of m[1]!.matchAll(invocation)) add(c[1]!, c[2]!);
  }
  return found;
}

const documented = documentedCommands(README);

describe('the README and the command line agree', () => {
  it('names the operations commands (a check on the reader above)', () => {
    for (const c of ['run', 'schedule', 'runs', 'rollback', 'serve', 'export', 'users', 'audit', 'start', 'demo']) expect(documented.has(c), c).toBe(true);
  });

  it.each([...documented.keys()].sort())('closeloop %s --help answers, with every flag the README gives it', async (cmd) => {
    const r = await runCli([cmd, '--help']);
    expect(r.code, `${cmd} --help: ${r.stderr}`).toBe(0);
    const usage = r.stdout;
    expect(usage).toMatch(new RegExp(`^closeloop ${cmd}\\b`));
    for (const flag of documented.get(cmd)!) expect(usage, `README shows closeloop ${cmd} ${flag}`).toMatch(new RegExp(`${flag}(?![a-z-])`));
  }, 30_000);

  it('every command the CLI has is in the README\'s command table', async () => {
    const r = await runCli(['--help']);
    const commands = [...r.stdout.matchAll(/^ {2}([a-z][a-z-]*) /gm)].map((m) => m[1]!);
    expect(commands.length).toBeGreaterThan(10);
    const table = README.slice(README.indexOf('## The command line'));
    for (const c of commands) expect(table, c).toMatch(new RegExp(`\`(closeloop )?${c}\\b`));
  }, 30_000);
});
