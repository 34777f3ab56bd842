/**
 * Module-level knobs read once at boot from the environment, validated like the core
 * config: a bad value stops the start with a message naming the variable.
 */
export function envInt(name: string, fallback: number, min: number, max: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new Error(`Invalid configuration: ${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return Number(raw);
}
