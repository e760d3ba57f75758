// Times ONNX Runtime (onnxruntime-node's CPU provider, MLAS) on one model: session.run alone,
// median of REPS after one warm-up. Prints "ort_ms <median>", then "ort_runs" with each run.
//   node bench/ort_run.js MODEL.onnx INPUT.f32 N C H W THREADS REPS
const ort = require('onnxruntime-node');
const fs = require('fs');

async function main() {
    const [model, input, n, c, h, w, threads, reps] = process.argv.slice(2);
    const session = await ort.InferenceSession.create(model, {
        intraOpNumThreads: Number(threads),
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
    });
    const buf = fs.readFileSync(input);
    const data = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', data, [n, c, h, w].map(Number))};
    await session.run(feeds);  // warm-up
    const times = [];
    for (let i = 0; i < Number(reps); ++i) {
        const t = process.hrtime.bigint();
        await session.run(feeds);
        times.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    const runs = times.slice();
    times.sort((a, b) => a - b);
    console.log(`ort_ms ${times[Math.floor(times.length / 2)].toFixed(1)}`);
    console.log(`ort_runs ${runs.map((v) => v.toFixed(1)).join(" ")}`);
}
main().catch((e) => { console.error(e.message); process.exit(1); });
