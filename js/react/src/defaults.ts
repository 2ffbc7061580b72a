// App-wide defaults for every useWebRTCCall below a provider: the ICE servers (TURN) and the
// reconnect and timeout policy are usually one decision per app, not per component.

import { createContext, createElement } from 'react';
import type { ReactNode } from 'react';
import type { WebRTCCallOptions } from './client.js';

export type WebRTCCallDefaults = Pick<
  WebRTCCallOptions,
  'iceServers' | 'autoReconnect' | 'maxReconnectAttempts' | 'connectionTimeout' | 'iceGatheringTimeout'
>;

export const DefaultsContext = createContext<WebRTCCallDefaults | null>(null);

export interface RTCRoomProviderProps {
  /** Used where a useWebRTCCall leaves the option out. */
  defaults: WebRTCCallDefaults;
  children?: ReactNode;
}

/** `<RTCRoomProvider defaults={{ iceServers: [{ urls: 'turn:…', … }] }}>` around the app. */
export function RTCRoomProvider({ defaults, children }: RTCRoomProviderProps): ReactNode {
  return createElement(DefaultsContext.Provider, { value: defaults }, children);
}
