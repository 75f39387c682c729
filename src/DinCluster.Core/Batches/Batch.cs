using DinCluster.Core.Features;

namespace DinCluster.Core.Batches;

/// <summary>
/// A mini-batch in flat arrays, laid out by feature like TorchRec's KeyedJaggedTensor.
/// Nothing here is a tensor, so a batch can cross an actor boundary as it is.
/// <code>
///   Count = 3 samples
///   Sparse[f]   : long[Count]                 one id per sample, feature f of schema.Sparse
///   Dense[f]    : float[Count * dim_f]        row-major
///   Lengths[v]  : int[Count]                  e.g. [2, 0, 3]  (already cut to maxlen, most recent kept)
///   Values[v]   : long[sum(Lengths[v])]       e.g. [a1 a2 | c1 c2 c3]  oldest first per sample
///   Labels      : float[Count]                0 or 1
/// </code>
/// Paired histories (same HistoryPair) have equal lengths per sample.
/// </summary>
public sealed class Batch
{
    public required long BatchId { get; init; }
    public required int Count { get; init; }
    public required long[][] Sparse { get; init; }
    public required float[][] Dense { get; init; }
    public required int[][] Lengths { get; init; }
    public required long[][] Values { get; init; }
    public required float[] Labels { get; init; }

    /// <summary>Longest history of any varlen feature in this batch (the model pads to this, not to maxlen).</summary>
    public int MaxLength(int varLenIndex)
    {
        var max = 0;
        foreach (var l in Lengths[varLenIndex]) if (l > max) max = l;
        return max;
    }

    /// <summary>Samples [start, start+count) as a new batch (arrays copied).</summary>
    public Batch Slice(int start, int count, long batchId)
    {
        if (start < 0 || count < 0 || start + count > Count)
            throw new ArgumentOutOfRangeException(nameof(count), $"slice [{start}, {start + count}) of a batch of {Count}");
        var dense = new float[Dense.Length][];
        for (var f = 0; f < Dense.Length; f++)
        {
            var dim = Count == 0 ? 0 : Dense[f].Length / Count;
            dense[f] = Dense[f].AsSpan(start * dim, count * dim).ToArray();
        }
        var lengths = new int[Lengths.Length][];
        var values = new long[Values.Length][];
        for (var v = 0; v < Lengths.Length; v++)
        {
            var offset = 0;
            for (var i = 0; i < start; i++) offset += Lengths[v][i];
            lengths[v] = Lengths[v].AsSpan(start, count).ToArray();
            var total = 0;
            foreach (var l in lengths[v]) total += l;
            values[v] = Values[v].AsSpan(offset, total).ToArray();
        }
        return new Batch
        {
            BatchId = batchId,
            Count = count,
            Sparse = Sparse.Select(s => s.AsSpan(start, count).ToArray()).ToArray(),
            Dense = dense,
            Lengths = lengths,
            Values = values,
            Labels = Labels.AsSpan(start, count).ToArray(),
        };
    }

    /// <summary>Concatenates batches of one schema, in order.</summary>
    public static Batch Concat(IReadOnlyList<Batch> parts, long batchId)
    {
        if (parts.Count == 0) throw new ArgumentException("nothing to concatenate", nameof(parts));
        var first = parts[0];
        return new Batch
        {
            BatchId = batchId,
            Count = parts.Sum(p => p.Count),
            Sparse = Enumerable.Range(0, first.Sparse.Length).Select(f => parts.SelectMany(p => p.Sparse[f]).ToArray()).ToArray(),
            Dense = Enumerable.Range(0, first.Dense.Length).Select(f => parts.SelectMany(p => p.Dense[f]).ToArray()).ToArray(),
            Lengths = Enumerable.Range(0, first.Lengths.Length).Select(f => parts.SelectMany(p => p.Lengths[f]).ToArray()).ToArray(),
            Values = Enumerable.Range(0, first.Values.Length).Select(f => parts.SelectMany(p => p.Values[f]).ToArray()).ToArray(),
            Labels = parts.SelectMany(p => p.Labels).ToArray(),
        };
    }

    /// <summary>Checks the arrays agree with the schema and with each other.</summary>
    public void Validate(FeatureSchema schema)
    {
        void Fail(string what) => throw new InvalidDataException($"batch {BatchId}: {what}");
        if (Sparse.Length != schema.Sparse.Count) Fail($"{Sparse.Length} sparse columns, schema has {schema.Sparse.Count}");
        if (Dense.Length != schema.Dense.Count) Fail($"{Dense.Length} dense columns, schema has {schema.Dense.Count}");
        if (Lengths.Length != schema.VarLen.Count || Values.Length != schema.VarLen.Count) Fail($"varlen columns do not match the schema's {schema.VarLen.Count}");
        if (Labels.Length != Count) Fail($"{Labels.Length} labels for {Count} samples");
        for (var f = 0; f < Sparse.Length; f++)
            if (Sparse[f].Length != Count) Fail($"sparse '{schema.Sparse[f].Name}' has {Sparse[f].Length} ids for {Count} samples");
        for (var f = 0; f < Dense.Length; f++)
            if (Dense[f].Length != Count * schema.Dense[f].Dimension) Fail($"dense '{schema.Dense[f].Name}' has {Dense[f].Length} values, expected {Count * schema.Dense[f].Dimension}");
        for (var v = 0; v < Lengths.Length; v++)
        {
            if (Lengths[v].Length != Count) Fail($"varlen '{schema.VarLen[v].Name}' has {Lengths[v].Length} lengths for {Count} samples");
            long total = 0;
            foreach (var l in Lengths[v])
            {
                if (l < 0 || l > schema.VarLen[v].MaxLen) Fail($"varlen '{schema.VarLen[v].Name}' has length {l}, outside [0, {schema.VarLen[v].MaxLen}]");
                total += l;
            }
            if (total != Values[v].Length) Fail($"varlen '{schema.VarLen[v].Name}' lengths sum to {total}, values hold {Values[v].Length}");
        }
        foreach (var p in schema.HistoryPairs)
        {
            var a = Lengths[schema.VarLenIndex(p.History)];
            foreach (var q in schema.HistoryPairs)
            {
                var b = Lengths[schema.VarLenIndex(q.History)];
                for (var i = 0; i < Count; i++)
                    if (a[i] != b[i]) Fail($"sample {i}: '{p.History}' has {a[i]} ids, '{q.History}' has {b[i]}");
            }
        }
    }
}
