// examples/video-tasks.ts: the task module of examples/video-flow.ts. Stand-ins for an encoder, a frame grabber, speech to text and a resizer.
import { createHash } from 'node:crypto';
import { UnrecoverableError } from 'tessera-pool/worker';

const digest = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Encodes the upload; returns where the encoded file is and how long it plays. */
export function encode(input: { source: string }): { path: string; seconds: number } {
  return { path: `/videos/${digest(input.source).slice(0, 8)}.mp4`, seconds: 90 };
}

/** Grabs `count` frames spread over the video. */
export function thumbnails(input: { path: string; seconds: number; count: number }): string[] {
  return Array.from({ length: input.count }, (_, i) => `${input.path}#t=${Math.round((input.seconds * (i + 0.5)) / input.count)}`);
}

/** Speech to text: the spoken language. A video without sound cannot be transcribed, however often we try. */
export function transcribe(input: { path: string; silent: boolean }): { language: string } {
  if (input.silent) throw new UnrecoverableError('no audio track');
  return { language: 'en' };
}

/** Resizes the frames to `width`, naming each with its caption language. */
export function resize(input: { frames: string[]; width: number; caption: string }): string[] {
  return input.frames.map((frame) => `${frame.slice(frame.indexOf('#t=') + 3)}s@${input.width}w.${input.caption}.jpg`);
}
