/** Test helper: runs `trainer <argv>` in process; its exit code and what it wrote to stderr (usage, errors). */
import { main } from './commands.js';

export async function runCli(argv: readonly string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const code = await main([...argv], { write: (s: string) => (err += s) });
  return { code, err };
}
