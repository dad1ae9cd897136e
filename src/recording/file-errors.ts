/**
 * File-system failures as CameraError(ERR_FILE), with a hint that names the
 * likely fix for the errno, since "EACCES" alone tells a Node-RED user little.
 */
import { CameraError, ErrorCodes, Hints } from '../errors';

const HINTS: Record<string, string> = {
  ENOENT: 'The folder or file does not exist. Create the folder, or enable "create folder".',
  ENOTDIR: 'A part of the path is a file, not a folder. Check the path.',
  EISDIR: 'The path is a folder; give a file name (or a folder plus a base name).',
  EACCES: 'Node-RED has no permission to use this path. Choose another folder or fix its permissions.',
  EPERM: 'Node-RED has no permission to use this path. Choose another folder or fix its permissions.',
  EROFS: 'The file system is read-only. Choose another folder.',
  ENOSPC: 'The disk is full. Free space, or lower fps/resolution or the rotation size.',
  EFBIG:
    'The file reached the largest size this file system (FAT32: 4 GB) or the system limit allows. Set "New file every … MB" below it.',
  EDQUOT: 'The disk quota is exceeded. Free space or raise the quota.',
  EMFILE: 'Too many open files in this process.',
  EEXIST: 'The file already exists.',
};

export function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** `action` says what we tried, e.g. "open recording file", "read". */
export function fileError(action: string, path: string, err: unknown): CameraError {
  if (err instanceof CameraError) return err;
  const code = errnoCode(err);
  const detail = code ?? (err instanceof Error ? err.message : String(err));
  return new CameraError(ErrorCodes.FILE, `Cannot ${action} "${path}": ${detail}`, {
    cause: err,
    hint: (code && HINTS[code]) || Hints[ErrorCodes.FILE],
  });
}
