using System.Runtime.InteropServices;
using System.Text;
using DinCluster.Cluster.Protocol;
using DinCluster.Core.Batches;

namespace DinCluster.Cluster.Serialization;

/// <summary>
/// Primitive encodings of the protocol: length-prefixed little-endian arrays written as raw
/// bytes (no per-element calls), UTF-8 strings. Every length read is checked against the bytes
/// left, so a corrupt length fails fast instead of allocating gigabytes.
/// </summary>
internal static class Wire
{
    public static void Longs(this BinaryWriter w, long[] a) => Raw(w, a);
    public static void Ints(this BinaryWriter w, int[] a) => Raw(w, a);
    public static void Floats(this BinaryWriter w, float[] a) => Raw(w, a);

    private static void Raw<T>(BinaryWriter w, T[] a) where T : unmanaged
    {
        w.Write(a.Length);
        w.Write(MemoryMarshal.AsBytes(a.AsSpan()));
    }

    public static long[] Longs(this BinaryReader r) => Raw<long>(r);
    public static int[] Ints(this BinaryReader r) => Raw<int>(r);
    public static float[] Floats(this BinaryReader r) => Raw<float>(r);

    private static T[] Raw<T>(BinaryReader r) where T : unmanaged
    {
        var n = r.Count(Marshal.SizeOf<T>());
        var a = new T[n];
        var bytes = MemoryMarshal.AsBytes(a.AsSpan());
        if (r.Read(bytes) != bytes.Length) throw new EndOfStreamException();
        return a;
    }

    /// <summary>Reads an element count and checks that count * elementBytes bytes can follow.</summary>
    public static int Count(this BinaryReader r, int elementBytes)
    {
        var n = r.ReadInt32();
        var left = r.BaseStream.Length - r.BaseStream.Position;
        if (n < 0 || (long)n * elementBytes > left)
            throw new InvalidDataException($"length {n} at byte {r.BaseStream.Position - 4} does not fit the {left} bytes left");
        return n;
    }

    public static void Str(this BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write(bytes.Length);
        w.Write(bytes);
    }

    public static string Str(this BinaryReader r) => Encoding.UTF8.GetString(r.ReadBytes(r.Count(1)));

    public static void Array<T>(this BinaryWriter w, T[] items, Action<BinaryWriter, T> write)
    {
        w.Write(items.Length);
        foreach (var item in items) write(w, item);
    }

    /// <summary>Each element takes at least 4 bytes on the wire, which bounds the count.</summary>
    public static T[] Array<T>(this BinaryReader r, Func<BinaryReader, T> read)
    {
        var a = new T[r.Count(4)];
        for (var i = 0; i < a.Length; i++) a[i] = read(r);
        return a;
    }

    public static void Rows(this BinaryWriter w, TableRows t)
    {
        w.Str(t.Table);
        w.Write(t.Dim);
        w.Longs(t.Ids);
        w.Floats(t.Values);
    }

    public static TableRows Rows(this BinaryReader r)
    {
        var table = r.Str();
        var dim = r.ReadInt32();
        var ids = r.Longs();
        var values = r.Floats();
        if (dim < 0 || (long)ids.Length * dim != values.Length)
            throw new InvalidDataException($"table '{table}': {ids.Length} ids of dim {dim} but {values.Length} values");
        return new TableRows(table, dim, ids, values);
    }

    public static void Batch(this BinaryWriter w, Batch b)
    {
        w.Write(b.BatchId);
        w.Write(b.Count);
        w.Array(b.Sparse, Longs);
        w.Array(b.Dense, Floats);
        w.Array(b.Lengths, Ints);
        w.Array(b.Values, Longs);
        w.Floats(b.Labels);
    }

    public static Batch Batch(this BinaryReader r) => new()
    {
        BatchId = r.ReadInt64(),
        Count = r.ReadInt32(),
        Sparse = r.Array(Longs),
        Dense = r.Array(Floats),
        Lengths = r.Array(Ints),
        Values = r.Array(Longs),
        Labels = r.Floats(),
    };

    public static void RowGroup(this BinaryWriter w, RowGroupRef g)
    {
        w.Str(g.File);
        w.Write(g.RowGroup);
        w.Write(g.Rows);
    }

    public static RowGroupRef RowGroup(this BinaryReader r) => new(r.Str(), r.ReadInt32(), r.ReadInt64());

    public static void Options(this BinaryWriter w, TrainOptions o)
    {
        w.Write((int)o.Sync);
        w.Write(o.Staleness);
        w.Write(o.Credit);
        w.Write(o.MaxMessageBytes);
        w.Str(o.JobJson);
    }

    public static TrainOptions Options(this BinaryReader r) => new(r.Enum<SyncMode>(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.Str());

    public static T Enum<T>(this BinaryReader r) where T : struct, Enum
    {
        var v = r.ReadInt32();
        var e = (T)(object)v;
        if (!System.Enum.IsDefined(e)) throw new InvalidDataException($"{v} is not a {typeof(T).Name}");
        return e;
    }
}
