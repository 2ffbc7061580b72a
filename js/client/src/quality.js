// Connection quality: a ConnectionQualitySummary from two getStats() reports.

/** @typedef {import('../../../src/rtcroom/web/rtcroom.js').ConnectionQualitySummary} ConnectionQualitySummary */
/** @typedef {RTCStatsReport | Map<string, any>} StatsReport */

/**
 * The candidate pair in use, or null before ICE has chosen one.
 * @param {StatsReport} stats
 */
function selectedPair(stats) {
  for (const report of stats.values()) {
    if (report.type === 'transport' && report.selectedCandidatePairId) {
      return stats.get(report.selectedCandidatePairId) ?? null;
    }
  }
  // Browsers without transport stats: the nominated pair in use.
  for (const report of stats.values()) {
    if (report.type === 'candidate-pair' && report.nominated && report.state === 'succeeded') {
      return report;
    }
  }
  return null;
}

/**
 * Bits per second of a byte counter between two reports of the same stream.
 * @param {any} current
 * @param {any} previous
 * @param {string} field
 * @returns {number | undefined}
 */
function rate(current, previous, field) {
  if (!previous || current[field] === undefined || previous[field] === undefined) return undefined;
  const seconds = (current.timestamp - previous.timestamp) / 1000;
  if (!(seconds > 0)) return undefined;
  return Math.max(0, ((current[field] - previous[field]) * 8) / seconds);
}

/**
 * A ConnectionQualitySummary from a getStats() report and, optionally, the report before it
 * (rates and loss then cover the time between the two). getQualitySummary() uses it; it is
 * exported for apps that collect stats themselves.
 * @param {StatsReport} stats
 * @param {StatsReport | null} [previous]
 * @returns {ConnectionQualitySummary}
 */
export function qualitySummary(stats, previous = null) {
  /** @type {ConnectionQualitySummary} */
  const summary = { timestamp: Date.now() };
  /** @type {Record<string, {inbound?: number, outbound?: number}>} */
  const bitrate = {};
  /**
   * @param {string} kind
   * @param {'inbound' | 'outbound'} direction
   * @param {number | undefined} value
   */
  const setRate = (kind, direction, value) => {
    if (value === undefined) return;
    bitrate[kind] = bitrate[kind] || {};
    bitrate[kind][direction] = (bitrate[kind][direction] ?? 0) + value;
  };
  let lost = 0;
  let received = 0;
  let sawInbound = false;

  const pair = selectedPair(stats);
  if (pair) {
    if (pair.currentRoundTripTime !== undefined) summary.rtt = pair.currentRoundTripTime * 1000;
    const local = stats.get(pair.localCandidateId);
    const remote = stats.get(pair.remoteCandidateId);
    summary.candidatePair = {
      localType: local?.candidateType,
      remoteType: remote?.candidateType,
      protocol: local?.protocol,
      usingRelay: local?.candidateType === 'relay' || remote?.candidateType === 'relay',
    };
  }
  for (const report of stats.values()) {
    const before = previous?.get(report.id);
    if (report.type === 'inbound-rtp') {
      if (report.kind === 'audio' && report.jitter !== undefined) summary.jitter = report.jitter * 1000;
      if (report.kind === 'video') {
        summary.video = {
          framesPerSecond: report.framesPerSecond,
          framesDropped: report.framesDropped,
          frameWidth: report.frameWidth,
          frameHeight: report.frameHeight,
        };
      }
      if (report.packetsLost !== undefined && report.packetsReceived !== undefined) {
        sawInbound = true;
        lost += Math.max(0, report.packetsLost - (before?.packetsLost ?? 0));
        received += Math.max(0, report.packetsReceived - (before?.packetsReceived ?? 0));
      }
      setRate(report.kind, 'inbound', rate(report, before, 'bytesReceived'));
    } else if (report.type === 'outbound-rtp') {
      setRate(report.kind, 'outbound', rate(report, before, 'bytesSent'));
    }
  }
  // Loss over the interval since the previous summary (or since the start, the first time).
  if (sawInbound && lost + received > 0) summary.packetLossPercent = (lost / (lost + received)) * 100;
  else if (sawInbound && previous) summary.packetLossPercent = 0;
  if (Object.keys(bitrate).length > 0) summary.bitrate = bitrate;
  return summary;
}
