/**
 * Adapts the camera HTTP client to the session's StreamSource: one GET of the
 * stream target per connect, expecting a multipart body.
 */
import type { CameraHttpClient } from './http';
import type { OpenedStream, StreamSource } from './session';

export class HttpStreamSource implements StreamSource {
  readonly description: string;

  constructor(
    private readonly client: CameraHttpClient,
    private readonly target: string,
  ) {
    this.description = `${client.baseUrl}${target}`;
  }

  async open(signal: AbortSignal): Promise<OpenedStream> {
    const res = await this.client.request(this.target, { signal, expect: 'multipart' });
    return { contentType: res.contentType, body: res.body, abort: () => res.abort() };
  }
}
