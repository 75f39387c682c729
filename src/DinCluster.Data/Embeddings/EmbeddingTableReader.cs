using System.Globalization;
using DinCluster.Core.Batches;
using Parquet;
using Parquet.Schema;

namespace DinCluster.Data;

/// <summary>
/// Reads embedding tables written by <see cref="EmbeddingTableWriter"/> (or any Parquet with
/// `id` int64 and `vector` list&lt;float&gt;). Table and dim come from the file's metadata, else
/// from the file name and the first vector. A null id or vector, a vector of another length, or
/// NaN/Inf is a <see cref="BadInputException"/> naming file, row group and row: a model table is
/// never partly loaded.
/// </summary>
public static class EmbeddingTableReader
{
    /// <summary>The whole table (all row groups concatenated).</summary>
    public static TableRows Read(string path)
    {
        var parts = ReadRowGroups(path).ToList();
        if (parts.Count == 1) return parts[0];
        var first = parts.FirstOrDefault() ?? throw new BadInputException(path, null, null, BadInputReason.EmptyFile, "embedding table has no rows");
        return new TableRows(first.Table, first.Dim, parts.SelectMany(p => p.Ids).ToArray(), parts.SelectMany(p => p.Values).ToArray());
    }

    /// <summary>One <see cref="TableRows"/> per row group, read lazily: memory holds one row group.</summary>
    public static IEnumerable<TableRows> ReadRowGroups(string path)
    {
        var (reader, id, vector) = Open(path);
        try
        {
            foreach (var rows in ReadRowGroups(path, reader, id, vector)) yield return rows;
        }
        finally
        {
            reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static IEnumerable<TableRows> ReadRowGroups(string path, ParquetReader reader, DataField id, ListColumn vector)
    {
        var table = reader.CustomMetadata.GetValueOrDefault(EmbeddingTableWriter.TableKey) ?? Path.GetFileNameWithoutExtension(path);
        int? dim = reader.CustomMetadata.TryGetValue(EmbeddingTableWriter.DimKey, out var d) ? int.Parse(d, CultureInfo.InvariantCulture) : null;
        for (var g = 0; g < reader.RowGroupCount; g++)
        {
            TableRows rows;
            try
            {
                rows = ReadRowGroupAsync(path, reader.RowGroups[g], g, id, vector, table, dim).AsTask().GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is not (BadInputException or OperationCanceledException))
            {
                throw new BadInputException(path, g, null, BadInputReason.UnreadableRowGroup, $"cannot be decoded ({e.Message})", e);
            }
            dim ??= rows.Dim;
            yield return rows;
        }
    }

    private static async ValueTask<TableRows> ReadRowGroupAsync(string path, ParquetRowGroupReader group, int g,
        DataField idField, ListColumn vector, string table, int? knownDim)
    {
        var n = checked((int)group.RowCount);
        BadInputException Bad(int row, BadInputReason reason, string detail) => new(path, g, row, reason, detail);

        var ids = new long[n];
        if (idField.MaxDefinitionLevel == 0) await group.ReadRawAsync(idField, ids.AsMemory(), null, null);
        else
        {
            var def = new int[n];
            var packed = new long[n];
            await group.ReadRawAsync(idField, packed.AsMemory(), def.AsMemory(), null);
            for (int i = 0, k = 0; i < n; i++)
                ids[i] = def[i] == idField.MaxDefinitionLevel ? packed[k++] : throw Bad(i, BadInputReason.NullValue, $"{EmbeddingTableWriter.IdColumn} is null");
        }

        var levels = checked((int)group.GetMetadata(vector.Item)!.MetaData!.NumValues);
        var values = new float[levels];
        var defLevels = new int[levels];
        var repLevels = new int[levels];
        await group.ReadRawAsync(vector.Item, values.AsMemory(), defLevels.AsMemory(), repLevels.AsMemory());
        var start = new int[n];
        var length = new int[n];
        ListLevels.Walk(defLevels, repLevels, vector, n, start, length, EmbeddingTableWriter.VectorColumn, (row, position, listIsNull) =>
            throw Bad(row, BadInputReason.NullValue, listIsNull
                ? $"{EmbeddingTableWriter.VectorColumn} is null"
                : $"{EmbeddingTableWriter.VectorColumn} has a null value at position {position}"));

        var dim = knownDim ?? (n > 0 ? length[0] : 0);
        var vectors = new float[n * dim];
        for (var i = 0; i < n; i++)
        {
            if (length[i] != dim) throw Bad(i, BadInputReason.DenseDimensionMismatch, $"{EmbeddingTableWriter.VectorColumn} has {length[i]} values, expected {dim}");
            var src = values.AsSpan(start[i], dim);
            for (var j = 0; j < dim; j++)
                if (!float.IsFinite(src[j])) throw Bad(i, BadInputReason.NonFiniteDense, $"{EmbeddingTableWriter.VectorColumn}[{j}] of id {ids[i]} is {src[j]}");
            src.CopyTo(vectors.AsSpan(i * dim));
        }
        return new TableRows(table, dim, ids, vectors);
    }

    /// <summary>Opens the file and finds its two columns; file-level problems are BadInputExceptions.</summary>
    private static (ParquetReader Reader, DataField Id, ListColumn Vector) Open(string path)
    {
        if (new FileInfo(path).Length == 0) throw new BadInputException(path, null, null, BadInputReason.EmptyFile, "file is empty (0 bytes)");
        ParquetReader reader;
        try
        {
            var stream = new InlineReadStream(path);
            try
            {
                reader = ParquetReader.CreateAsync(stream, leaveStreamOpen: false).GetAwaiter().GetResult();
            }
            catch
            {
                stream.Dispose();
                throw;
            }
        }
        catch (Exception e) when (e is not (FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException))
        {
            throw new BadInputException(path, null, null, BadInputReason.UnreadableFile, $"not a readable Parquet file ({e.Message})", e);
        }

        var fields = reader.Schema.Fields;
        var id = fields.FirstOrDefault(f => f.Name == EmbeddingTableWriter.IdColumn);
        var vector = fields.FirstOrDefault(f => f.Name == EmbeddingTableWriter.VectorColumn);
        BadInputException? mismatch = null;
        if (id is not DataField { IsArray: false } idField || idField.ClrType != typeof(long))
            mismatch = Mismatch(path, EmbeddingTableWriter.IdColumn, "int64", id);
        else if (vector is not ListField { Item: DataField { IsArray: false } item } || item.ClrType != typeof(float))
            mismatch = Mismatch(path, EmbeddingTableWriter.VectorColumn, "list<float>", vector);
        else return (reader, idField, new ListColumn(item));

        reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        throw mismatch;
    }

    private static BadInputException Mismatch(string path, string column, string expected, Field? found) =>
        new(path, null, null, BadInputReason.SchemaMismatch, found is null
            ? $"column '{column}' is missing (expected {expected})"
            : $"column '{column}': expected {expected}, found {BehaviourLogSchema.Describe(found)}");
}
