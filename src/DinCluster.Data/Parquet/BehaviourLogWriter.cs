using DinCluster.Core.Batches;
using DinCluster.Core.Features;
using Parquet;
using Parquet.Schema;

namespace DinCluster.Data;

/// <summary>
/// Writes behaviour-log Parquet (<see cref="BehaviourLogSchema"/>) from samples or batches,
/// buffering one row group at a time (<see cref="RowGroupSize"/> rows) so memory stays bounded.
/// A faithful serializer: it does not judge values (a label of 7 is written as 7); readers do.
/// Dispose writes the last row group and the footer; until then the file is not readable.
/// </summary>
public sealed class BehaviourLogWriter : IDisposable, IAsyncDisposable
{
    public const int DefaultRowGroupSize = 8192;

    private readonly FeatureSchema _features;
    private readonly FileStream _stream;
    private readonly ParquetWriter _writer;
    private readonly DataField[] _fields;   // schema.DataFields: sparse, varlen items, dense, label, [timestamp]
    private readonly bool _withTimestamp;

    // the row group being filled
    private readonly long[][] _sparse;
    private readonly ListBuffer<long>[] _varLen;
    private readonly float[][] _dense;          // dimension 1
    private readonly ListBuffer<float>?[] _denseLists;
    private readonly int[] _labels;
    private readonly long[] _timestamps;
    private readonly int[] _timestampDef;
    private int _rows;
    private bool _disposed;

    // one sample's values, resolved before any buffer above changes
    private readonly long[] _rowSparse;
    private readonly long[][] _rowVarLen;
    private readonly float[][] _rowDense;

    public string Path { get; }
    public int RowGroupSize { get; }
    public long RowsWritten { get; private set; }
    public int RowGroupsWritten { get; private set; }

    private BehaviourLogWriter(string path, FeatureSchema features, int rowGroupSize, bool withTimestamp, FileStream stream, ParquetWriter writer, ParquetSchema schema)
    {
        Path = path;
        _features = features;
        RowGroupSize = rowGroupSize;
        _withTimestamp = withTimestamp;
        _stream = stream;
        _writer = writer;
        _fields = schema.DataFields;
        _sparse = features.Sparse.Select(_ => new long[rowGroupSize]).ToArray();
        _varLen = features.VarLen.Select(_ => new ListBuffer<long>(rowGroupSize)).ToArray();
        _dense = features.Dense.Select(d => d.Dimension == 1 ? new float[rowGroupSize] : []).ToArray();
        _denseLists = features.Dense.Select(d => d.Dimension == 1 ? null : new ListBuffer<float>(rowGroupSize)).ToArray();
        _labels = new int[rowGroupSize];
        _timestamps = withTimestamp ? new long[rowGroupSize] : [];
        _timestampDef = withTimestamp ? new int[rowGroupSize] : [];
        _rowSparse = new long[features.Sparse.Count];
        _rowVarLen = new long[features.VarLen.Count][];
        _rowDense = new float[features.Dense.Count][];
    }

    /// <summary>Creates (or overwrites) <paramref name="path"/>; its directory must exist.</summary>
    /// <remarks>Snappy is what other tools expect; Parquet.Net 6.1 copies every compressed page into a fresh
    /// array when reading, which <see cref="CompressionMethod.None"/> avoids at twice the disk size.</remarks>
    public static BehaviourLogWriter Create(string path, FeatureSchema features, int rowGroupSize = DefaultRowGroupSize,
        bool withTimestamp = false, CompressionMethod compression = CompressionMethod.Snappy) =>
        CreateAsync(path, features, rowGroupSize, withTimestamp, compression).GetAwaiter().GetResult();

    public static async Task<BehaviourLogWriter> CreateAsync(string path, FeatureSchema features, int rowGroupSize = DefaultRowGroupSize,
        bool withTimestamp = false, CompressionMethod compression = CompressionMethod.Snappy, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rowGroupSize);
        var schema = new BehaviourLogSchema(features).ToParquetSchema(withTimestamp);
        var stream = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None, bufferSize: 1 << 16);
        try
        {
            var writer = await ParquetWriter.CreateAsync(schema, stream, new ParquetOptions { CompressionMethod = compression }, cancellationToken: ct);
            return new BehaviourLogWriter(path, features, rowGroupSize, withTimestamp, stream, writer, schema);
        }
        catch
        {
            await stream.DisposeAsync();
            throw;
        }
    }

    /// <summary>Writes a whole file of samples.</summary>
    public static void WriteFile(string path, FeatureSchema features, IEnumerable<Sample> samples, int rowGroupSize = DefaultRowGroupSize, bool withTimestamp = false)
    {
        using var writer = Create(path, features, rowGroupSize, withTimestamp);
        foreach (var s in samples) writer.Write(s);
    }

    public void Write(Sample sample) => WriteAsync(sample).AsTask().GetAwaiter().GetResult();

    public ValueTask WriteAsync(Sample sample, CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        // resolve every column first: a sample that lacks a feature must not leave half a row behind
        for (var f = 0; f < _rowSparse.Length; f++)
        {
            var name = _features.Sparse[f].Name;
            _rowSparse[f] = name switch
            {
                "user_id" => sample.UserId,
                "item_id" => sample.ItemId,
                "category_id" => sample.CategoryId,
                _ => Extra(sample.Sparse, name),
            };
        }
        for (var v = 0; v < _rowVarLen.Length; v++)
        {
            var name = _features.VarLen[v].Name;
            _rowVarLen[v] = name switch
            {
                "hist_item_id" => sample.HistItems,
                "hist_category_id" => sample.HistCategories,
                _ => Extra(sample.VarLen, name),
            };
        }
        for (var d = 0; d < _rowDense.Length; d++)
        {
            var feature = _features.Dense[d];
            var values = _rowDense[d] = Extra(sample.Dense, feature.Name);
            if (feature.Dimension == 1 && values.Length != 1)
                throw new ArgumentException($"dense feature '{feature.Name}' has dimension 1, the sample gives {values.Length} values", nameof(sample));
        }

        var row = _rows;
        for (var f = 0; f < _sparse.Length; f++) _sparse[f][row] = _rowSparse[f];
        for (var v = 0; v < _varLen.Length; v++) _varLen[v].Add(_rowVarLen[v]);
        for (var d = 0; d < _dense.Length; d++)
        {
            if (_denseLists[d] is { } list) list.Add(_rowDense[d]);
            else _dense[d][row] = _rowDense[d][0];
        }
        _labels[row] = sample.Label;
        if (_withTimestamp)
        {
            _timestamps[row] = sample.Timestamp ?? 0;
            _timestampDef[row] = sample.Timestamp.HasValue ? 1 : 0;
        }
        Array.Clear(_rowVarLen);   // no references kept to the caller's arrays
        Array.Clear(_rowDense);
        return RowAddedAsync(ct);
    }

    public void Write(Batch batch) => WriteAsync(batch).GetAwaiter().GetResult();

    /// <summary>Appends a batch's rows (timestamps, if the file has them, are null).</summary>
    public async Task WriteAsync(Batch batch, CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        batch.Validate(_features);
        var offsets = new int[batch.Values.Length];
        for (var i = 0; i < batch.Count; i++)
        {
            var row = _rows;
            for (var f = 0; f < _sparse.Length; f++) _sparse[f][row] = batch.Sparse[f][i];
            for (var v = 0; v < _varLen.Length; v++)
            {
                var length = batch.Lengths[v][i];
                _varLen[v].Add(batch.Values[v].AsSpan(offsets[v], length));
                offsets[v] += length;
            }
            for (var d = 0; d < _dense.Length; d++)
            {
                var dim = _features.Dense[d].Dimension;
                var values = batch.Dense[d].AsSpan(i * dim, dim);
                if (_denseLists[d] is { } list) list.Add(values);
                else _dense[d][row] = values[0];
            }
            _labels[row] = (int)batch.Labels[i];
            if (_withTimestamp) _timestampDef[row] = 0;
            await RowAddedAsync(ct);
        }
    }

    private ValueTask RowAddedAsync(CancellationToken ct) =>
        ++_rows == RowGroupSize ? new ValueTask(FlushAsync(ct)) : ValueTask.CompletedTask;

    /// <summary>
    /// Ends the row group being filled (when it has rows) and writes a row group of no rows, so that a file's
    /// row groups can line up one to one with another file's (a test's "same data minus one row group").
    /// </summary>
    public async Task WriteEmptyRowGroupAsync(CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await FlushAsync(ct);
        await FlushAsync(ct, evenEmpty: true);
    }

    private async Task FlushAsync(CancellationToken ct, bool evenEmpty = false)
    {
        if (_rows == 0 && !evenEmpty) return;
        using (var group = _writer.CreateRowGroup())
        {
            var field = 0;
            foreach (var column in _sparse)
                await group.WriteAsync(_fields[field++], new ReadOnlyMemory<long>(column, 0, _rows), cancellationToken: ct);
            foreach (var list in _varLen)
                await list.WriteAsync(group, _fields[field++], ct);
            for (var d = 0; d < _dense.Length; d++)
            {
                if (_denseLists[d] is { } list) await list.WriteAsync(group, _fields[field++], ct);
                else await group.WriteAsync(_fields[field++], new ReadOnlyMemory<float>(_dense[d], 0, _rows), cancellationToken: ct);
            }
            await group.WriteAsync(_fields[field++], new ReadOnlyMemory<int>(_labels, 0, _rows), cancellationToken: ct);
            if (_withTimestamp)
            {
                var present = 0;
                for (var i = 0; i < _rows; i++)
                    if (_timestampDef[i] == 1) _timestamps[present++] = _timestamps[i];
                await group.WriteAllPartsAsync(_fields[field], new ReadOnlyMemory<long>(_timestamps, 0, present),
                    new ReadOnlyMemory<int>(_timestampDef, 0, _rows), null, ct);
            }
            group.CompleteValidate();
        }
        RowsWritten += _rows;
        RowGroupsWritten++;
        _rows = 0;
        foreach (var list in _varLen) list.Clear();
        foreach (var list in _denseLists) list?.Clear();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        try
        {
            await FlushAsync(CancellationToken.None);
            await _writer.DisposeAsync();
        }
        finally
        {
            _disposed = true;
            await _stream.DisposeAsync();
        }
    }

    private static T Extra<T>(IReadOnlyDictionary<string, T>? values, string name) =>
        values is not null && values.TryGetValue(name, out var v)
            ? v
            : throw new ArgumentException($"the sample has no value for feature '{name}'");

    /// <summary>A list column of one row group as Parquet stores it: packed values plus levels per entry
    /// (an empty list is one entry with the lower definition level and no value).</summary>
    private sealed class ListBuffer<T>(int rows) where T : struct
    {
        // the lists of BehaviourLogSchema.ToParquetSchema: optional list, repeated group, required element
        private const int EmptyDef = 1;
        private const int ValueDef = 2;

        private T[] _values = new T[rows * 4];
        private int[] _def = new int[rows * 4];
        private int[] _rep = new int[rows * 4];
        private int _count;
        private int _entries;

        public void Add(ReadOnlySpan<T> list)
        {
            var need = _entries + Math.Max(1, list.Length);
            if (need > _def.Length)
            {
                var size = Math.Max(need, _def.Length * 2);
                Array.Resize(ref _values, size);
                Array.Resize(ref _def, size);
                Array.Resize(ref _rep, size);
            }
            if (list.IsEmpty)
            {
                _def[_entries] = EmptyDef;
                _rep[_entries++] = 0;
                return;
            }
            list.CopyTo(_values.AsSpan(_count));
            _count += list.Length;
            for (var i = 0; i < list.Length; i++)
            {
                _def[_entries] = ValueDef;
                _rep[_entries++] = i == 0 ? 0 : 1;
            }
        }

        public Task WriteAsync(ParquetRowGroupWriter group, DataField item, CancellationToken ct) =>
            group.WriteAllPartsAsync(item, new ReadOnlyMemory<T>(_values, 0, _count),
                new ReadOnlyMemory<int>(_def, 0, _entries), new ReadOnlyMemory<int>(_rep, 0, _entries), ct);

        public void Clear() => _count = _entries = 0;
    }
}
