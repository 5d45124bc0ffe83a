/** Test support for the mesh end-to-end tests: the gateway's admin views through the real CLI. */
import { runAdminCli } from './server.ts';
import type { InspectResult } from '../ops-api.ts';
import type { MeshView } from '../open-data.ts';

/** `datamesh admin mesh --json` of the server at `url`. */
export async function meshView(server: { url: string }): Promise<MeshView> {
  const r = await runAdminCli(server, 'mesh', '--json');
  if (r.code !== 0) throw new Error(r.err);
  return JSON.parse(r.out) as MeshView;
}

/** `datamesh admin inspect BUCKET KEY --json` of the server at `url`. */
export async function inspectObject(server: { url: string }, bucket: string, key: string): Promise<InspectResult> {
  const r = await runAdminCli(server, 'inspect', bucket, key, '--json');
  if (r.code !== 0) throw new Error(`inspect ${bucket}/${key}: ${r.err}`);
  return JSON.parse(r.out) as InspectResult;
}
