/**
 * Reading request bodies with a size limit. A declared `Content-Length` over the limit is refused before a
 * byte is read; a streamed body is counted as it arrives and refused as soon as it passes the limit, so an
 * oversized body is never buffered whole.
 */
import { PayloadTooLargeError } from '../sdk/errors.js';
import { HttpError } from './http-errors.js';

/** The body as UTF-8 text ('' when there is none); `PayloadTooLargeError` past `limit` bytes. */
export async function readBodyText(request: Request, limit: number): Promise<string> {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > limit) throw new PayloadTooLargeError('request body', Number(declared), limit);
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new PayloadTooLargeError('request body (cut off once over the limit)', size, limit);
    }
    chunks.push(value);
  }
  const bytes = Buffer.concat(chunks, size);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new HttpError(400, 'The request body is not valid UTF-8.');
  }
}

/** Parses a JSON body; an empty body is `undefined` (no input). Malformed JSON is a 400. */
export async function readJsonBody(request: Request, limit: number): Promise<unknown> {
  const text = await readBodyText(request, limit);
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HttpError(400, `The request body is not valid JSON: ${(error as Error).message}`);
  }
}

/** True when the request's media type is `application/json` (parameters such as `charset` allowed). */
export function isJsonContentType(request: Request): boolean {
  const type = request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
  return type === 'application/json';
}
