using System.Buffers;
using System.Numerics;
using DinCluster.Core.Batches;
using DinCluster.Core.Features;
using Parquet;
using Parquet.Schema;

namespace DinCluster.Data;

/// <summary>
/// Decodes one row group into column buffers, checks every row, then emits batches of the good
/// rows. Works on whole columns (values + definition/repetition levels): no object per row.
/// Buffers come from ArrayPool and are reused across row groups until Dispose; not thread-safe.
/// <code>
///   list column, 3 rows [a b] [] [c d e]:
///     rep    0 1 0 0 1 1         rep == 0 starts a row
///     def    2 2 1 2 2 2         EmptyDef (1) = empty list, ValueDef (2) = a value
///     values a b c d e           packed, nulls and empty lists take no slot
///   -> start [0 2 2], length [2 0 3]
/// </code>
/// </summary>
internal sealed class RowGroupDecoder(FeatureSchema features, bool describe) : IDisposable
{
    private readonly long[][] _sparse = Fill<long>(features.Sparse.Count);
    private readonly float[][] _dense = Fill<float>(features.Dense.Count);
    private readonly long[][] _varValues = Fill<long>(features.VarLen.Count);
    private readonly int[][] _varStart = Fill<int>(features.VarLen.Count);
    private readonly int[][] _varLength = Fill<int>(features.VarLen.Count);
    private readonly int[] _paired = features.HistoryPairs.Select(p => features.VarLenIndex(p.History)).ToArray();
    private int[] _labels = [];
    private byte[] _bad = [];   // 0 = good, else 1 + BadInputReason
    private int[] _good = [];
    private int[] _def = [];
    private int[] _rep = [];

    private int _firstBadRow;
    private BadInputReason _firstBadReason;
    private string _firstBadDetail = "";

    public int RowCount { get; private set; }

    /// <summary>Rows that passed every check; <see cref="Emit"/> numbers them 0..GoodCount-1.</summary>
    public int GoodCount { get; private set; }

    /// <summary>Good rows with at least one history longer than its maxlen.</summary>
    public int TruncatedRows { get; private set; }

    /// <summary>The first bad row in row order, when the decoder describes (Fail policy).</summary>
    public (int Row, BadInputReason Reason, string Detail)? FirstBad =>
        _firstBadRow < RowCount ? (_firstBadRow, _firstBadReason, _firstBadDetail) : null;

    /// <summary>Bad rows by reason (index = BadInputReason).</summary>
    public int[] BadByReason { get; } = new int[Enum.GetValues<BadInputReason>().Length];

    /// <summary>Reads and checks a row group. Exceptions other than cancellation mean the row group cannot be decoded.</summary>
    public async ValueTask DecodeAsync(ParquetRowGroupReader rowGroup, BoundLogSchema bound, CancellationToken ct)
    {
        var n = checked((int)rowGroup.RowCount);
        RowCount = n;
        _firstBadRow = int.MaxValue;
        Array.Clear(BadByReason);
        _bad = Grow(_bad, n);
        Array.Clear(_bad, 0, n);

        for (var f = 0; f < bound.Sparse.Length; f++)
        {
            _sparse[f] = Grow(_sparse[f], n);
            await ReadScalarAsync(rowGroup, bound.Sparse[f], _sparse[f], n, features.Sparse[f].Name, ct);
        }

        _labels = Grow(_labels, n);
        if (bound.Label is null) Array.Clear(_labels, 0, n);   // a file to be scored, without labels
        else await ReadScalarAsync(rowGroup, bound.Label, _labels, n, features.Label, ct);
        for (var i = 0; i < n; i++)
        {
            var l = _labels[i];
            if (l is not (0 or 1) && Mark(i, BadInputReason.InvalidLabel))
                Describe($"{features.Label} is {l}, must be 0 or 1");
        }

        for (var v = 0; v < bound.VarLen.Length; v++)
        {
            var name = features.VarLen[v].Name;
            var (values, count) = await ReadListAsync(rowGroup, bound.VarLen[v], _varValues[v], n, name, ct);
            _varValues[v] = values;
            _varStart[v] = Grow(_varStart[v], n);
            _varLength[v] = Grow(_varLength[v], n);
            WalkLevels(bound.VarLen[v], count, n, _varStart[v], _varLength[v], name, "id");
        }
        CheckPairedLengths(n);

        for (var d = 0; d < bound.Dense.Length; d++)
            await ReadDenseAsync(rowGroup, bound.Dense[d], d, n, ct);

        Finish(n);
    }

    /// <summary>Good rows [first, first+count) as a batch, histories cut to the most recent maxlen.</summary>
    public Batch Emit(int first, int count, long batchId)
    {
        var rows = _good.AsSpan(first, count);
        var sparse = new long[_sparse.Length][];
        for (var f = 0; f < sparse.Length; f++)
        {
            var src = _sparse[f];
            var dst = sparse[f] = new long[count];
            for (var j = 0; j < dst.Length; j++) dst[j] = src[rows[j]];
        }

        var labels = new float[count];
        for (var j = 0; j < labels.Length; j++) labels[j] = _labels[rows[j]];

        var dense = new float[_dense.Length][];
        for (var d = 0; d < dense.Length; d++)
        {
            var dim = features.Dense[d].Dimension;
            var dst = dense[d] = new float[count * dim];
            for (var j = 0; j < count; j++) _dense[d].AsSpan(rows[j] * dim, dim).CopyTo(dst.AsSpan(j * dim));
        }

        var lengths = new int[_varValues.Length][];
        var values = new long[_varValues.Length][];
        for (var v = 0; v < lengths.Length; v++)
        {
            var maxLen = features.VarLen[v].MaxLen;
            var (start, length) = (_varStart[v], _varLength[v]);
            var lens = lengths[v] = new int[count];
            var total = 0;
            for (var j = 0; j < count; j++) total += lens[j] = Math.Min(length[rows[j]], maxLen);
            var dst = values[v] = new long[total];
            var at = 0;
            for (var j = 0; j < count; j++)
            {
                // oldest first: keeping the most recent maxLen means dropping the head
                var r = rows[j];
                _varValues[v].AsSpan(start[r] + length[r] - lens[j], lens[j]).CopyTo(dst.AsSpan(at));
                at += lens[j];
            }
        }

        return new Batch { BatchId = batchId, Count = count, Sparse = sparse, Dense = dense, Lengths = lengths, Values = values, Labels = labels };
    }

    public void Dispose()
    {
        foreach (var a in _sparse) Return(a);
        foreach (var a in _dense) Return(a);
        foreach (var a in _varValues) Return(a);
        foreach (var a in _varStart) Return(a);
        foreach (var a in _varLength) Return(a);
        Return(_labels);
        Return(_bad);
        Return(_good);
        Return(_def);
        Return(_rep);
    }

    /// <summary>Marks a row bad unless it already is (a row counts once, under its first problem).
    /// True when the caller should <see cref="Describe"/> it: it is the first bad row so far.</summary>
    private bool Mark(int row, BadInputReason reason)
    {
        if (_bad[row] != 0) return false;
        _bad[row] = (byte)(1 + (int)reason);
        if (!describe || row >= _firstBadRow) return false;
        _firstBadRow = row;
        _firstBadReason = reason;
        return true;
    }

    private void Describe(string detail) => _firstBadDetail = detail;

    /// <summary>A non-repeated column into dest[0..n); nulls are marked and left as default.</summary>
    private async ValueTask ReadScalarAsync<T>(ParquetRowGroupReader rowGroup, DataField field, T[] dest, int n, string name, CancellationToken ct)
        where T : struct
    {
        var numValues = NumValues(rowGroup, field);
        if (numValues != n) throw new InvalidDataException($"column '{name}' holds {numValues} values for {n} rows");
        if (field.MaxDefinitionLevel == 0)
        {
            await rowGroup.ReadRawAsync(field, dest.AsMemory(0, n), null, null, ct);
            return;
        }

        _def = Grow(_def, n);
        var packed = ArrayPool<T>.Shared.Rent(n);
        try
        {
            await rowGroup.ReadRawAsync(field, packed.AsMemory(0, n), _def.AsMemory(0, n), null, ct);
            var (def, max, k) = (_def, field.MaxDefinitionLevel, 0);
            for (var i = 0; i < n; i++)
            {
                if (def[i] == max) dest[i] = packed[k++];
                else
                {
                    dest[i] = default;
                    if (Mark(i, BadInputReason.NullValue)) Describe($"{name} is null");
                }
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(packed);
        }
    }

    /// <summary>Reads a list column's packed values (returned, maybe regrown) and its levels into _def/_rep.</summary>
    private async ValueTask<(T[] Values, int Levels)> ReadListAsync<T>(ParquetRowGroupReader rowGroup, ListColumn list, T[] values, int n, string name, CancellationToken ct)
        where T : struct
    {
        var count = NumValues(rowGroup, list.Item);
        if (count < n) throw new InvalidDataException($"column '{name}' holds {count} levels for {n} rows");
        values = Grow(values, count);
        _def = Grow(_def, count);
        _rep = Grow(_rep, count);
        await rowGroup.ReadRawAsync(list.Item, values.AsMemory(0, count), _def.AsMemory(0, count), _rep.AsMemory(0, count), ct);
        return (values, count);
    }

    /// <summary>Per-row start/length of a list column just read (levels in _def/_rep); marks nulls.</summary>
    private void WalkLevels(ListColumn list, int levels, int n, int[] start, int[] length, string name, string element) =>
        ListLevels.Walk(_def.AsSpan(0, levels), _rep.AsSpan(0, levels), list, n, start, length, name, (row, position, listIsNull) =>
        {
            if (!Mark(row, BadInputReason.NullValue)) return;
            Describe(listIsNull ? $"{name} is null (an empty list is written as [])" : $"{name} has a null {element} at position {position}");
        });

    private void CheckPairedLengths(int n)
    {
        if (_paired.Length < 2) return;
        var first = _varLength[_paired[0]];
        for (var p = 1; p < _paired.Length; p++)
        {
            var other = _varLength[_paired[p]];
            for (var i = 0; i < n; i++)
                if (first[i] != other[i] && Mark(i, BadInputReason.HistoryLengthMismatch))
                    Describe($"{features.VarLen[_paired[0]].Name} has {first[i]} ids, {features.VarLen[_paired[p]].Name} has {other[i]}; paired histories must have equal lengths");
        }
    }

    private ValueTask ReadDenseAsync(ParquetRowGroupReader rowGroup, DenseColumn column, int d, int n, CancellationToken ct) =>
        column.IsDouble ? ReadDenseAsync<double>(rowGroup, column, d, n, ct) : ReadDenseAsync<float>(rowGroup, column, d, n, ct);

    /// <summary>A dense feature into _dense[d] (row-major, dim per row); wrong list lengths and NaN/Inf are marked.</summary>
    private async ValueTask ReadDenseAsync<T>(ParquetRowGroupReader rowGroup, DenseColumn column, int d, int n, CancellationToken ct)
        where T : struct, INumberBase<T>
    {
        var feature = features.Dense[d];
        var dim = feature.Dimension;
        var dst = _dense[d] = Grow(_dense[d], n * dim);
        if (column.List is null)
        {
            var raw = ArrayPool<T>.Shared.Rent(n);
            try
            {
                await ReadScalarAsync(rowGroup, column.Field, raw, n, feature.Name, ct);
                for (var i = 0; i < n; i++) dst[i] = float.CreateTruncating(raw[i]);
            }
            finally
            {
                ArrayPool<T>.Shared.Return(raw);
            }
        }
        else
        {
            var start = ArrayPool<int>.Shared.Rent(n);
            var length = ArrayPool<int>.Shared.Rent(n);
            T[] values = [];
            try
            {
                (values, var levels) = await ReadListAsync(rowGroup, column.List, values, n, feature.Name, ct);
                WalkLevels(column.List, levels, n, start, length, feature.Name, "value");
                for (var i = 0; i < n; i++)
                {
                    var row = dst.AsSpan(i * dim, dim);
                    if (length[i] != dim)
                    {
                        row.Clear();
                        if (Mark(i, BadInputReason.DenseDimensionMismatch)) Describe($"{feature.Name} has {length[i]} values, expected {dim}");
                        continue;
                    }
                    for (var j = 0; j < dim; j++) row[j] = float.CreateTruncating(values[start[i] + j]);
                }
            }
            finally
            {
                Return(values);
                ArrayPool<int>.Shared.Return(start);
                ArrayPool<int>.Shared.Return(length);
            }
        }

        for (var i = 0; i < n; i++)
            for (var j = 0; j < dim; j++)
            {
                var x = dst[i * dim + j];
                if (!float.IsFinite(x) && Mark(i, BadInputReason.NonFiniteDense))
                    Describe(dim == 1 ? $"{feature.Name} is {x}" : $"{feature.Name}[{j}] is {x}");
            }
    }

    private void Finish(int n)
    {
        _good = Grow(_good, n);
        int good = 0, truncated = 0;
        for (var i = 0; i < n; i++)
        {
            if (_bad[i] != 0)
            {
                BadByReason[_bad[i] - 1]++;
                continue;
            }
            _good[good++] = i;
            for (var v = 0; v < _varLength.Length; v++)
                if (_varLength[v][i] > features.VarLen[v].MaxLen)
                {
                    truncated++;
                    break;
                }
        }
        GoodCount = good;
        TruncatedRows = truncated;
    }

    private static int NumValues(ParquetRowGroupReader rowGroup, DataField field) =>
        checked((int)(rowGroup.GetMetadata(field)?.MetaData?.NumValues
            ?? throw new InvalidDataException($"column '{field.Path}' has no metadata in this row group")));

    private static T[] Grow<T>(T[] buffer, int length)
    {
        if (buffer.Length >= length) return buffer;
        Return(buffer);
        return ArrayPool<T>.Shared.Rent(length);
    }

    private static void Return<T>(T[] buffer)
    {
        if (buffer.Length > 0) ArrayPool<T>.Shared.Return(buffer);
    }

    private static T[][] Fill<T>(int count)
    {
        var arrays = new T[count][];
        Array.Fill(arrays, []);
        return arrays;
    }
}
