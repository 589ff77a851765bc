/**
 * `sweep --upload s3://bucket/prefix` (output.upload): the run's folder, once the sweep has ended
 * (whatever its outcome: what was measured is worth keeping), copied to
 * s3://bucket/prefix/<YYYY-MM-DD>/<HHMMSS>_<backend>_<tag>/, the archive's own layout, so that
 * many runs uploaded to one prefix read as the archive does.
 */
import pc from "picocolors";
import type { RunFolder } from "../archive/run-folder.ts";
import { under, type S3Location } from "../archive/s3-client.ts";
import { uploadFolderTo } from "../archive/s3-upload.ts";

/** True when every file went up; false (said on stderr, the folder kept here) when one did not. */
export async function uploadSweep(folder: RunFolder, location: S3Location): Promise<boolean> {
  try {
    const uploaded = await uploadFolderTo(folder.dir, under(location, folder.name));
    console.log(pc.dim(`  uploaded ${uploaded.files} files (${(uploaded.bytes / 1e6).toFixed(1)} MB) to ${uploaded.url}`));
    return true;
  } catch (error) {
    console.error(pc.red(`llmbench: --upload: ${(error as Error).message} (the results are kept in ${folder.dir})`));
    return false;
  }
}
