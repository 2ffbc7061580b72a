// Data channels: opening one from a DataChannelConfig, and the message format.

/** @typedef {import('../../../src/rtcroom/web/rtcroom.js').DataChannelConfig} DataChannelConfig */

/**
 * A new data channel on `pc`, configured as the app asked.
 * @param {RTCPeerConnection} pc
 * @param {DataChannelConfig} config
 * @returns {RTCDataChannel}
 */
export function createChannel(pc, config) {
  if (!config || typeof config.label !== 'string') {
    throw new TypeError("a data channel needs a label, e.g. {label: 'chat'}");
  }
  /** @type {RTCDataChannelInit} */
  const init = { ordered: config.ordered ?? true };
  if (config.maxPacketLifeTime !== undefined) init.maxPacketLifeTime = config.maxPacketLifeTime;
  if (config.maxRetransmits !== undefined) init.maxRetransmits = config.maxRetransmits;
  if (config.protocol !== undefined) init.protocol = config.protocol;
  return pc.createDataChannel(config.label, init);
}

/**
 * What onDataChannelMessage receives. Agentuity's wire format has no envelope: text that
 * parses as JSON arrives parsed.
 * @param {unknown} data
 * @returns {unknown}
 */
export function messageData(data) {
  if (typeof data !== 'string') return data;
  try {
    return JSON.parse(data);
  } catch {
    return data; // plain text
  }
}

/**
 * Sends on an open channel; false if there is none or it is not open.
 * @param {RTCDataChannel | undefined} channel
 * @param {string | ArrayBuffer} data
 */
export function sendOn(channel, data) {
  if (!channel || channel.readyState !== 'open') return false;
  channel.send(/** @type {any} */ (data));
  return true;
}

/**
 * @param {ArrayBuffer | ArrayBufferView} data
 * @returns {ArrayBuffer}
 */
export function toArrayBuffer(data) {
  if (data instanceof ArrayBuffer) return data;
  if (ArrayBuffer.isView(data)) {
    return /** @type {ArrayBuffer} */ (
      data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)
    );
  }
  throw new TypeError('sendBinary needs an ArrayBuffer or a typed array such as Uint8Array');
}
