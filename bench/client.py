"""Client benchmark: SSE parse rate and full decode rate (SSE + JSON + event mapping).

Builds a stream with the captured deepseek-reasoner layout (reference §4.5: keep-alives, role chunk,
reasoning chunks, answer chunks with `"usage": null`, finish chunk with usage, `[DONE]`) held in
memory, then feeds it to the decoder in network-sized reads. Prints figures; asserts nothing.

    .venv/bin/python bench/client.py [--chunks 200000] [--read-size 1400] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deepseek_tui.client.assembler import StreamAssembler
from deepseek_tui.client.sse import DONE, KEEP_ALIVE, SSEDecoder

HEAD = {
    "id": "0e9642e9-9af6-4eb1-9c13-8c90d6b13ef3",
    "object": "chat.completion.chunk",
    "created": 1764042665,
    "model": "deepseek-reasoner",
    "system_fingerprint": "fp_ffc7281d48_prod0820_fp8_kvcache",
}
WORDS = ["9.11", " vs", " 9.8", ":", " compare", " 0.11", " and", " 0.80", ".", " 好", "的", "，", " so"]


def chunk_line(delta: dict, finish: str | None = None, usage: dict | None = None) -> bytes:
    data = {**HEAD, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
    data["usage"] = usage
    return b"data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"


def build_stream(chunks: int) -> bytes:
    parts = [b": keep-alive\n\n"] * 3
    parts.append(chunk_line({"role": "assistant", "content": None, "reasoning_content": ""}))
    reasoning = chunks * 3 // 4
    for i in range(chunks - 2):
        word = WORDS[i % len(WORDS)]
        if i < reasoning:
            parts.append(chunk_line({"content": None, "reasoning_content": word}))
        else:
            parts.append(chunk_line({"content": word, "reasoning_content": None}))
    usage = {
        "prompt_tokens": 15,
        "completion_tokens": chunks,
        "total_tokens": chunks + 15,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": reasoning},
        "prompt_cache_hit_tokens": 0,
        "prompt_cache_miss_tokens": 15,
    }
    parts.append(chunk_line({"content": "", "reasoning_content": None}, "stop", usage))
    parts.append(b"data: [DONE]\n\n")
    return b"".join(parts)


def split_reads(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def parse_only(reads: list[bytes]) -> int:
    decoder = SSEDecoder()
    count = 0
    for read in reads:
        count += len(decoder.feed(read))
    return count + len(decoder.close())


def full_decode(reads: list[bytes]) -> int:
    decoder = SSEDecoder()
    assembler = StreamAssembler()
    loads = json.loads
    count = 0
    for read in reads:
        for item in decoder.feed(read):
            if item is KEEP_ALIVE:
                count += 1
                continue
            if item == DONE:
                break
            count += len(assembler.feed(loads(item)))
    assert assembler.finish_reason == "stop"
    return count


def best_time(fn, reads: list[bytes], repeat: int) -> tuple[float, int]:
    best = float("inf")
    result = 0
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn(reads)
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=200_000)
    parser.add_argument("--read-size", type=int, default=1400, help="bytes per simulated socket read")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--live-tokens", type=int, default=2000, help="0 skips the live loopback stream")
    parser.add_argument("--live-rate", type=float, default=200.0, help="tokens per second of the live stream")
    args = parser.parse_args()

    data = build_stream(args.chunks)
    sse_events = data.count(b"\n\n")
    print(f"stream: {args.chunks:,} chunks, {len(data) / 1e6:.1f} MB, {sse_events:,} SSE events")
    for size in (args.read_size, 1 << 16, 64):
        reads = split_reads(data, size)
        seconds, items = best_time(parse_only, reads, args.repeat)
        assert items == sse_events, (items, sse_events)
        print(
            f"SSE parse    read={size:>6} B: {items / seconds:>12,.0f} events/s "
            f"({len(data) / seconds / 1e6:.0f} MB/s, {seconds * 1e3:.0f} ms)"
        )
    reads = split_reads(data, args.read_size)
    seconds, produced = best_time(full_decode, reads, args.repeat)
    print(
        f"full decode  read={args.read_size:>6} B: {sse_events / seconds:>12,.0f} events/s "
        f"(SSE + json.loads + event mapping, {produced:,} stream events, {seconds * 1e3:.0f} ms)"
    )
    if args.live_tokens:
        live_stream_cpu(args.live_tokens, args.live_rate)


def live_stream_cpu(tokens: int, rate: float) -> None:
    """CPU the client spends on a real stream over loopback (simulator in another process)."""
    import asyncio
    import subprocess
    import sys

    from deepseek_tui.client import DeepSeekClient, Timeouts

    launcher = (
        "import time\nfrom deepseek_tui.simulator import Simulator\n"
        f"s = Simulator(api_key='sk-test', token_rate={rate}).start()\ns.answer_tokens = {tokens}\n"
        "print(s.url, flush=True)\ntime.sleep(600)"
    )
    server = subprocess.Popen([sys.executable, "-c", launcher], stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().strip()

        async def consume(read_pause: float) -> tuple[int, float, float]:
            body = {
                "model": "deepseek-flash",
                "messages": [{"role": "user", "content": "go"}],
                "max_tokens": tokens * 4,
            }
            timeouts = Timeouts(read_pause=read_pause)
            async with DeepSeekClient("sk-test", url, timeouts=timeouts) as client:
                cpu, wall, count = time.process_time(), time.perf_counter(), 0
                async for _ in client.stream_chat(body):
                    count += 1
                return count, time.process_time() - cpu, time.perf_counter() - wall

        for read_pause in (Timeouts().read_pause, 0.0):
            count, cpu, wall = asyncio.run(consume(read_pause))
            print(
                f"live stream  {tokens:,} tokens at {rate:g} tok/s, read_pause {read_pause:g} s: {count:,} events "
                f"in {wall:.1f} s, client CPU {cpu:.2f} s ({cpu / count * 1e3:.2f} ms per event)"
            )
    finally:
        server.kill()


if __name__ == "__main__":
    main()
