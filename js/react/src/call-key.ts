// When must the hook replace its WebRTCCall? When the options that shape the call change in
// value, not in identity: components pass `media: {...}`, `dataChannels: [...]`,
// `iceServers: [...]` and even `media: new DisplayMediaSource()` inline, so every render brings
// new objects that mean the same call.

import { CustomStreamSource, DisplayMediaSource, UserMediaSource } from './client.js';
import type { TrackSource, WebRTCCallOptions } from './client.js';

/** A string that changes exactly when the call described by `options` changes: every option
 * but `callbacks` (always the latest, never a new call) and `autoConnect` (read when a call is
 * made), so options rtcroom.js gains later count too. */
export function callKey(options: WebRTCCallOptions): string {
  const { callbacks: _callbacks, autoConnect: _autoConnect, media, ...shaping } = options;
  return stableJson({ ...shaping, media: mediaKey(media) });
}

const sourceIds = new WeakMap<object, number>();
let nextSourceId = 0;

function mediaKey(media: WebRTCCallOptions['media']): unknown {
  if (media === undefined || media === null || media === false) return media ?? null;
  if (media instanceof UserMediaSource || media instanceof DisplayMediaSource) {
    // Same class and constraints: the same source, whichever instance this render made.
    return [media.type, (media as unknown as { constraints: unknown }).constraints ?? null];
  }
  if (media instanceof CustomStreamSource) return ['custom', media.stream.id];
  if (typeof (media as TrackSource).getStream === 'function') {
    // A TrackSource of the app's own: only its identity says whether it is the same one.
    let id = sourceIds.get(media);
    if (id === undefined) sourceIds.set(media, (id = ++nextSourceId));
    return ['source', id];
  }
  return ['constraints', media];
}

/** JSON with object keys sorted, so `{a, b}` and `{b, a}` give the same key. */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}
