using DinCluster.Core.Batches;
using Parquet;
using Parquet.Schema;

namespace DinCluster.Data;

/// <summary>
/// Writes an embedding table as Parquet (`id` int64, `vector` list&lt;float&gt; of Dim values), the
/// format of `dincluster export --format parquet`, in row groups of <see cref="RowGroupSize"/> rows.
/// Rows can come in several <see cref="Write(TableRows)"/> calls (e.g. one per PS shard), so a
/// table never has to be in memory at once. Table name and dim go into the file's key-value metadata.
/// </summary>
public sealed class EmbeddingTableWriter : IDisposable, IAsyncDisposable
{
    public const int DefaultRowGroupSize = 65_536;
    public const string IdColumn = "id";
    public const string VectorColumn = "vector";
    public const string TableKey = "dincluster.table";
    public const string DimKey = "dincluster.dim";

    private readonly FileStream _stream;
    private readonly ParquetWriter _writer;
    private readonly DataField _id;
    private readonly DataField _element;
    private readonly long[] _ids;
    private readonly float[] _values;
    private readonly int[] _def;   // every row has Dim values: levels are the same for every row group
    private readonly int[] _rep;
    private int _rows;
    private bool _disposed;

    public string Table { get; }
    public int Dim { get; }
    public int RowGroupSize { get; }
    public long RowsWritten { get; private set; }

    private EmbeddingTableWriter(string table, int dim, int rowGroupSize, FileStream stream, ParquetWriter writer, DataField id, DataField element)
    {
        Table = table;
        Dim = dim;
        RowGroupSize = rowGroupSize;
        _stream = stream;
        _writer = writer;
        _id = id;
        _element = element;
        _ids = new long[rowGroupSize];
        _values = new float[rowGroupSize * dim];
        _def = new int[rowGroupSize * dim];
        _rep = new int[rowGroupSize * dim];
        Array.Fill(_def, element.MaxDefinitionLevel);
        for (var i = 0; i < _rep.Length; i++) _rep[i] = i % dim == 0 ? 0 : 1;
    }

    public static EmbeddingTableWriter Create(string path, string table, int dim, int rowGroupSize = DefaultRowGroupSize) =>
        CreateAsync(path, table, dim, rowGroupSize).GetAwaiter().GetResult();

    public static async Task<EmbeddingTableWriter> CreateAsync(string path, string table, int dim, int rowGroupSize = DefaultRowGroupSize, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dim);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rowGroupSize);
        var id = new DataField<long>(IdColumn);
        var element = new DataField<float>(ListField.ElementName);
        var schema = new ParquetSchema(id, new ListField(VectorColumn, element));
        var stream = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None, bufferSize: 1 << 16);
        try
        {
            var writer = await ParquetWriter.CreateAsync(schema, stream, cancellationToken: ct);
            writer.CustomMetadata = new Dictionary<string, string> { [TableKey] = table, [DimKey] = dim.ToString(System.Globalization.CultureInfo.InvariantCulture) };
            return new EmbeddingTableWriter(table, dim, rowGroupSize, stream, writer, id, element);
        }
        catch
        {
            await stream.DisposeAsync();
            throw;
        }
    }

    /// <summary>Writes a whole table in one file.</summary>
    public static void WriteFile(string path, TableRows rows, int rowGroupSize = DefaultRowGroupSize)
    {
        using var writer = Create(path, rows.Table, rows.Dim, rowGroupSize);
        writer.Write(rows);
    }

    public void Write(TableRows rows) => WriteAsync(rows).GetAwaiter().GetResult();

    public async Task WriteAsync(TableRows rows, CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (rows.Dim != Dim) throw new ArgumentException($"rows of table '{rows.Table}' have dim {rows.Dim}, the file {Dim}", nameof(rows));
        if (rows.Values.Length != rows.Ids.Length * Dim)
            throw new ArgumentException($"{rows.Ids.Length} ids need {rows.Ids.Length * Dim} values, got {rows.Values.Length}", nameof(rows));
        for (var r = 0; r < rows.Ids.Length;)
        {
            var take = Math.Min(RowGroupSize - _rows, rows.Ids.Length - r);
            rows.Ids.AsSpan(r, take).CopyTo(_ids.AsSpan(_rows));
            rows.Values.AsSpan(r * Dim, take * Dim).CopyTo(_values.AsSpan(_rows * Dim));
            _rows += take;
            r += take;
            if (_rows == RowGroupSize) await FlushAsync(ct);
        }
    }

    private async Task FlushAsync(CancellationToken ct)
    {
        if (_rows == 0) return;
        using (var group = _writer.CreateRowGroup())
        {
            await group.WriteAsync(_id, new ReadOnlyMemory<long>(_ids, 0, _rows), cancellationToken: ct);
            var entries = _rows * Dim;
            await group.WriteAllPartsAsync(_element, new ReadOnlyMemory<float>(_values, 0, entries),
                new ReadOnlyMemory<int>(_def, 0, entries), new ReadOnlyMemory<int>(_rep, 0, entries), ct);
            group.CompleteValidate();
        }
        RowsWritten += _rows;
        _rows = 0;
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
}
