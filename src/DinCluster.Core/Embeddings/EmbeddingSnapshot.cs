using System.Runtime.InteropServices;
using System.Text;
using DinCluster.Core.Optimizers;
using DinCluster.Core.Routing;

namespace DinCluster.Core.Embeddings;

/// <summary>
/// One shard's tables in one binary file, restorable onto any number of shards.
/// <code>
///   All integers and floats little-endian.
///   header   8 bytes "DINPSEMB", u32 version (1), i32 shard index, i32 shard count,
///            i64 seed, f32 init scale, i32 table count,
///            per table: u16 name length, UTF-8 name, i32 dim, u8 optimizer kind, u8 slot count
///   tables   in header order, each:
///            i64 clock (table step)
///            i32 n, i64[n] recent batch ids, oldest first
///            i32 sketch width w (0 = no sketch), u16[4 * w] admission counters
///            i64 rows, then per row:
///              i64 id, i32 count n_j, i32 updates, i64 last step,
///              f32[dim] weights, f32[dim] per slot (Adagrad: accumulator; Adam: m, v; FTRL: z, n)
///   trailer  u32 CRC-32C of every byte before it
/// </code>
/// Restoring re-shards: each new shard reads every old file and keeps the rows that
/// <see cref="ShardRouter"/> sends to it.
/// </summary>
public static class EmbeddingSnapshot
{
    public const uint Version = 1;
    private static readonly byte[] Magic = "DINPSEMB"u8.ToArray();

    /// <summary>Writes the shard to <paramref name="path"/> via a temporary file and a rename, so a crash leaves no half file under that name.</summary>
    public static void Write(EmbeddingShard shard, string path)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("snapshots are written on little-endian hosts only");
        var tmp = path + ".tmp";
        using (var file = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            var crc = new CrcStream(file);
            using (var w = new BinaryWriter(crc, Encoding.UTF8, leaveOpen: true))
            {
                var tables = shard.AllTables.ToArray();
                w.Write(Magic);
                w.Write(Version);
                w.Write(shard.ShardIndex);
                w.Write(shard.ShardCount);
                w.Write(shard.Settings.Seed);
                w.Write(shard.Settings.InitScale);
                w.Write(tables.Length);
                foreach (var t in tables)
                {
                    var name = Encoding.UTF8.GetBytes(t.Name);
                    w.Write((ushort)name.Length);
                    w.Write(name);
                    w.Write(t.Dim);
                    w.Write((byte)t.OptimizerKind);
                    w.Write((byte)t.SlotCount);
                }
                foreach (var t in tables) WriteTable(w, t);
            }
            file.Write(BitConverter.GetBytes(crc.Crc));
            file.Flush(flushToDisk: true);
        }
        File.Move(tmp, path, overwrite: true);
    }

    private static void WriteTable(BinaryWriter w, EmbeddingTable t)
    {
        w.Write(t.Clock);
        var recent = t.Recent.OldestFirst();
        w.Write(recent.Length);
        foreach (var id in recent) w.Write(id);
        w.Write(t.Sketch?.Width ?? 0);
        if (t.Sketch is { } sketch) w.Write(MemoryMarshal.AsBytes(sketch.Counters.AsSpan()));
        w.Write((long)t.Rows);
        foreach (var r in t.LiveRows())
        {
            var meta = t.Meta(r);
            w.Write(meta.Id);
            w.Write(meta.Count);
            w.Write(meta.Updates);
            w.Write(meta.LastStep);
            w.Write(MemoryMarshal.AsBytes(t.WeightsRow(r)));
            for (var s = 0; s < t.SlotCount; s++) w.Write(MemoryMarshal.AsBytes(t.Slot(s, r)));
        }
    }

    /// <summary>
    /// Builds shard <paramref name="shardIndex"/> of <paramref name="shardCount"/> from the snapshot
    /// files of all old shards (any number of them). Rows, slots, counts, step state and recent batch
    /// ids come back exactly; admission sketches are summed across old shards (a valid over-count
    /// for every id) unless the shard layout is unchanged, when each shard takes its own back.
    /// </summary>
    /// <exception cref="InvalidDataException">A file is corrupt (checksum, magic, version), the files
    /// disagree on tables, or they were written with another seed, init scale or optimizer kind.</exception>
    public static EmbeddingShard Restore(IReadOnlyList<string> paths, int shardCount, int shardIndex, EmbeddingSettings settings)
    {
        if (paths.Count == 0) throw new ArgumentException("no snapshot files to restore from", nameof(paths));
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("snapshots are read on little-endian hosts only");
        var router = new ShardRouter(shardCount);
        EmbeddingShard? shard = null;
        foreach (var path in paths)
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            var crc = new CrcStream(file);
            using var r = new BinaryReader(crc, Encoding.UTF8, leaveOpen: true);
            void Fail(string what) => throw new InvalidDataException($"snapshot {path}: {what}");

            if (!r.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic)) Fail("not an embedding snapshot (bad magic)");
            var version = r.ReadUInt32();
            if (version != Version) Fail($"version {version}, this build reads {Version}");
            var writerIndex = r.ReadInt32();
            var writerCount = r.ReadInt32();
            var seed = r.ReadInt64();
            var scale = r.ReadSingle();
            if (seed != settings.Seed || scale != settings.InitScale)
                Fail($"written with seed {seed} and init scale {scale}, settings have {settings.Seed} and {settings.InitScale}; rows never stored would change value");
            var headers = new (string Name, int Dim, SparseOptimizerKind Kind, int Slots)[r.ReadInt32()];
            for (var i = 0; i < headers.Length; i++)
                headers[i] = (Encoding.UTF8.GetString(r.ReadBytes(r.ReadUInt16())), r.ReadInt32(), (SparseOptimizerKind)r.ReadByte(), r.ReadByte());

            shard ??= new EmbeddingShard(headers.Select(h => (h.Name, h.Dim)), settings, shardIndex, shardCount);
            if (headers.Length != shard.Tables.Count) Fail($"{headers.Length} tables, the other snapshots {shard.Tables.Count}");
            var sameLayout = writerCount == shardCount;
            foreach (var h in headers)
            {
                var t = shard.AllTables.FirstOrDefault(x => x.Name == h.Name);
                if (t is null || t.Dim != h.Dim) Fail($"table '{h.Name}' (dim {h.Dim}) does not match the other snapshots");
                if (h.Kind != t!.OptimizerKind || h.Slots != t.SlotCount)
                    Fail($"table '{h.Name}' was trained with {h.Kind}, settings say {t.OptimizerKind}; optimizer state cannot carry over");
                ReadTable(r, t, router, shardIndex, takeSketch: !sameLayout || writerIndex == shardIndex);
            }
            var computed = crc.Crc;
            var stored = r.ReadUInt32();
            if (computed != stored) Fail($"checksum mismatch (stored {stored:x8}, computed {computed:x8})");
            if (file.Position != file.Length) Fail($"{file.Length - file.Position} bytes after the checksum");
        }
        foreach (var t in shard!.AllTables) t.FinishRestore();
        return shard;
    }

    private static void ReadTable(BinaryReader r, EmbeddingTable t, ShardRouter router, int shardIndex, bool takeSketch)
    {
        t.Clock = Math.Max(t.Clock, r.ReadInt64());
        var recent = r.ReadInt32();
        for (var i = 0; i < recent; i++) t.Recent.Add(r.ReadInt64());
        var width = r.ReadInt32();
        if (width > 0)
        {
            var counters = new ushort[CountMinSketch.Depth * width];
            r.BaseStream.ReadExactly(MemoryMarshal.AsBytes(counters.AsSpan()));
            // A sketch of another width (settings changed) cannot be merged; admission then restarts.
            if (takeSketch && t.Sketch is { } sketch && sketch.Width == width) sketch.Merge(counters);
        }
        var rows = r.ReadInt64();
        var values = new float[(1 + t.SlotCount) * t.Dim];
        var bytes = MemoryMarshal.AsBytes(values.AsSpan());
        for (long k = 0; k < rows; k++)
        {
            var id = r.ReadInt64();
            var count = r.ReadInt32();
            var updates = r.ReadInt32();
            var lastStep = r.ReadInt64();
            r.BaseStream.ReadExactly(bytes);
            if (router.ShardOf(t.Key, id) == shardIndex) t.RestoreRow(id, count, updates, lastStep, values);
        }
    }

    /// <summary>Pass-through stream that keeps a CRC-32C of every byte written or read.</summary>
    private sealed class CrcStream(Stream inner) : Stream
    {
        public uint Crc { get; private set; }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Crc = Crc32C.Append(Crc, buffer);
            inner.Write(buffer);
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = inner.Read(buffer);
            Crc = Crc32C.Append(Crc, buffer[..n]);
            return n;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override bool CanRead => inner.CanRead;
        public override bool CanWrite => inner.CanWrite;
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
