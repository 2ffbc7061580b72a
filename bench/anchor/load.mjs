// The one load generator of bench/signaling_bench.py --anchor, the same for every server.
// Driven over stdin, one command a line; answers one JSON line each:
//   join N            open N sockets (rooms of two; 500 handshakes in flight), join: seconds
//   blast R M W       the first R rooms ping-pong M ice frames per peer, W in flight: msgs, seconds
//   rtt K             K sequential relays there and back on room 0: sorted milliseconds
//   trickle RATE S    every room's peers trickle ice, RATE frames/s in all for S s: latencies
//   quit
// Usage: node load.mjs ws://127.0.0.1:PORT/api/call/signal
import readline from 'node:readline';
import WebSocket from 'ws';

const url = process.argv[2];
const CANDIDATE = {
	candidate:
		'candidate:842163049 1 udp 1677729535 203.0.113.7 56143 typ srflx raddr ' +
		'192.168.1.20 rport 56143 generation 0 ufrag EEtu network-cost 999',
	sdpMid: '0',
	sdpMLineIndex: 0,
	usernameFragment: 'EEtu',
};
const tag = Math.random().toString(36).slice(2, 10);
const peers = []; // { ws, id, other, onFrame }
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

function open(index) {
	// 20,000 sockets per source address: loopback has ~28k ephemeral ports per address. The
	// first 20,000 leave the choice to connect(), which reuses ports other rounds left in
	// TIME_WAIT (a port bound beforehand cannot be).
	const options = { perMessageDeflate: false };
	if (index >= 20000) options.localAddress = `127.0.0.${1 + Math.floor(index / 20000)}`;
	return new Promise((resolve, reject) => {
		const ws = new WebSocket(url, options);
		const peer = { ws, id: null, other: null, onFrame: null };
		ws.on('error', reject);
		ws.on('open', () => ws.send(JSON.stringify({ t: 'join', roomId: `${tag}-${index >> 1}` })));
		ws.on('message', (data) => {
			const msg = JSON.parse(data.toString());
			if (peer.id === null) {
				if (msg.t !== 'joined') return reject(new Error(`join answered ${data}`));
				peer.id = msg.peerId;
				resolve(peer);
			} else if (peer.onFrame !== null) {
				peer.onFrame(msg);
			}
		});
	});
}

async function join(n) {
	const start = performance.now();
	const base = peers.length;
	for (let i = 0; i < n; i += 500) {
		const batch = [];
		for (let j = i; j < Math.min(n, i + 500); j++) batch.push(open(base + j));
		peers.push(...(await Promise.all(batch)));
	}
	const seconds = (performance.now() - start) / 1000;
	for (let i = base; i + 1 < peers.length; i += 2) {
		peers[i].other = peers[i + 1];
		peers[i + 1].other = peers[i];
	}
	return { seconds, peers: peers.length };
}

function frameTo(peer, extra) {
	const candidate = extra === undefined ? CANDIDATE : { ...CANDIDATE, ...extra };
	return JSON.stringify({ t: 'ice', to: peer.other.id, candidate });
}

function blast(rooms, perPeer, window) {
	return new Promise((resolve) => {
		const start = performance.now();
		let pending = rooms * 2;
		for (const peer of peers.slice(0, rooms * 2)) {
			const frame = frameTo(peer);
			let sent = 0;
			let got = 0;
			peer.onFrame = (msg) => {
				if (msg.t !== 'ice') return;
				got += 1;
				if (sent < perPeer) {
					peer.ws.send(frame);
					sent += 1;
				}
				if (got === perPeer) {
					peer.onFrame = null;
					if (--pending === 0) {
						resolve({ msgs: rooms * 2 * perPeer, seconds: (performance.now() - start) / 1000 });
					}
				}
			};
			for (; sent < Math.min(window, perPeer); sent++) peer.ws.send(frame);
		}
	});
}

async function rtt(count) {
	const [a, b] = peers;
	const toB = frameTo(a);
	const toA = frameTo(b);
	const ms = [];
	for (let i = 0; i < count; i++) {
		const start = performance.now();
		await new Promise((resolve) => {
			b.onFrame = () => b.ws.send(toA);
			a.onFrame = resolve;
			a.ws.send(toB);
		});
		ms.push(performance.now() - start);
	}
	a.onFrame = b.onFrame = null;
	return { ms: ms.sort((x, y) => x - y) };
}

function trickle(rate, seconds) {
	// One tick every 10 ms sends rate/100 frames, round robin over every peer; each frame
	// carries its send time, so the receiver sees the one-way relay latency.
	return new Promise((resolve) => {
		const ms = [];
		for (const peer of peers) {
			peer.onFrame = (msg) => {
				if (msg.t === 'ice') ms.push(performance.now() - msg.candidate.sentAt);
			};
		}
		const perTick = Math.max(1, Math.round(rate / 100));
		let next = 0;
		let sent = 0;
		const start = performance.now();
		const timer = setInterval(() => {
			for (let i = 0; i < perTick; i++) {
				const peer = peers[next];
				next = (next + 1) % peers.length;
				peer.ws.send(frameTo(peer, { sentAt: performance.now() }));
				sent += 1;
			}
			if (performance.now() - start >= seconds * 1000) {
				clearInterval(timer);
				setTimeout(() => {
					for (const peer of peers) peer.onFrame = null;
					resolve({ sent, received: ms.length, seconds, ms: ms.sort((x, y) => x - y) });
				}, 1000);
			}
		}, 10);
	});
}

const commands = { join, blast, rtt, trickle };
for await (const line of readline.createInterface({ input: process.stdin })) {
	const [name, ...args] = line.trim().split(/\s+/);
	if (name === 'quit') break;
	out(await commands[name](...args.map(Number)));
}
for (const peer of peers) peer.ws.terminate();
process.exit(0);
