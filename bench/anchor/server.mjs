// The anchor for bench/signaling_bench.py --anchor: Agentuity's own room manager
// (@agentuity/runtime's WebRTCRoomManager, imported from the installed package, not copied) on a
// plain Node `ws` server, with the /healthz that rtcroom.testing.ServeProcess polls.
// Usage: node server.mjs serve --host 127.0.0.1 --port 8000 [--path /api/call/signal]
import http from 'node:http';
import { WebSocketServer } from 'ws';

// The package exports only its index (which pulls in its whole runtime); the room manager is
// a module of its own with no imports.
const { WebRTCRoomManager } = await import(
	new URL('./node_modules/@agentuity/runtime/dist/webrtc-signaling.js', import.meta.url).href
);

const arg = (name, fallback) => {
	const i = process.argv.indexOf(name);
	return i >= 0 ? process.argv[i + 1] : fallback;
};
const host = arg('--host', '127.0.0.1');
const port = Number(arg('--port', '8000'));
const signalPath = arg('--path', '/api/call/signal');
const maxPeers = Number(arg('--max-peers', '2'));

const rooms = new WebRTCRoomManager({ maxPeers });
const server = http.createServer((req, res) => {
	if (req.url === '/healthz') {
		const stats = rooms.getRoomStats();
		res.writeHead(200, { 'content-type': 'application/json' });
		res.end(JSON.stringify({ status: 'ok', rooms: stats.roomCount, peers: stats.totalPeers }));
		return;
	}
	res.writeHead(404).end();
});
const wss = new WebSocketServer({ server, path: signalPath, perMessageDeflate: false });
wss.on('connection', (ws) => {
	ws.on('message', (data, isBinary) => rooms.handleMessage(ws, isBinary ? data : data.toString()));
	ws.on('close', () => rooms.handleDisconnect(ws));
	ws.on('error', () => {});
});
server.listen(port, host, () => console.log(`anchor: serving on http://${host}:${port}/`));
