using DinCluster.Core.Batches;
using Parquet;
using Parquet.Schema;
using Xunit.Abstractions;

namespace DinCluster.Data.Tests.Embeddings;

public sealed class EmbeddingTableTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Reader_returns_the_written_table_when_written_in_parts_across_row_groups()
    {
        var rng = new Random(41);
        output.WriteLine("seed 41");
        TableRows Part(int rows) => new("item", 4,
            Enumerable.Range(0, rows).Select(_ => rng.NextInt64()).ToArray(),
            Enumerable.Range(0, rows * 4).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray());
        var parts = new[] { Part(130), Part(50), Part(70) };
        var path = _dir.File("item.parquet");

        using (var writer = EmbeddingTableWriter.Create(path, "item", 4, rowGroupSize: 100))
            foreach (var part in parts) writer.Write(part);
        var groups = EmbeddingTableReader.ReadRowGroups(path).ToList();
        var table = EmbeddingTableReader.Read(path);

        Assert.Equal([100, 100, 50], groups.Select(g => g.Ids.Length));
        Assert.Equal(("item", 4), (table.Table, table.Dim));
        Assert.Equal(parts.SelectMany(p => p.Ids), table.Ids);
        Assert.Equal(parts.SelectMany(p => p.Values), table.Values);
    }

    [Fact]
    public void Writer_refuses_rows_when_their_dim_differs_from_the_file()
    {
        using var writer = EmbeddingTableWriter.Create(_dir.File("t.parquet"), "item", 4);

        var e = Assert.Throws<ArgumentException>(() => writer.Write(new TableRows("item", 3, [1], [1, 2, 3])));

        Assert.StartsWith("rows of table 'item' have dim 3, the file 4", e.Message);
    }

    [Fact]
    public void Reader_names_file_row_group_and_row_when_a_vector_holds_NaN()
    {
        var path = _dir.File("t.parquet");
        EmbeddingTableWriter.WriteFile(path, new TableRows("user", 2, [5, 6, 7], [0, 1, 2, 3, 4, float.NaN]), rowGroupSize: 2);

        var e = Assert.Throws<BadInputException>(() => EmbeddingTableReader.Read(path));

        Assert.Equal($"{path}: row group 1, row 0: vector[1] of id 7 is NaN", e.Message);
    }

    [Fact]
    public async Task Reader_names_file_row_group_and_row_when_a_vector_has_another_length()
    {
        // a file from another tool: no dincluster metadata, so the dim comes from the first vector
        var path = _dir.File("foreign.parquet");
        var id = new DataField<long>("id");
        var element = new DataField<float>(ListField.ElementName);
        await using (var stream = File.Create(path))
        await using (var writer = await ParquetWriter.CreateAsync(new ParquetSchema(id, new ListField("vector", element)), stream))
        using (var group = writer.CreateRowGroup())
        {
            await group.WriteAsync<long>(id, new long[] { 1, 2, 3 });
            await group.WriteAllPartsAsync<float>(element, new float[] { 1, 2, 3, 4, 5, 6, 7, 8 },
                new[] { 2, 2, 2, 2, 2, 2, 2, 2 }, new[] { 0, 1, 1, 0, 1, 1, 0, 1 }, CancellationToken.None);
            group.CompleteValidate();
        }

        var e = Assert.Throws<BadInputException>(() => EmbeddingTableReader.Read(path));

        Assert.Equal($"{path}: row group 0, row 2: vector has 2 values, expected 3", e.Message);
    }

    [Fact]
    public async Task Reader_names_the_column_and_both_types_when_vectors_are_not_float_lists()
    {
        var path = _dir.File("double.parquet");
        var id = new DataField<long>("id");
        var element = new DataField<double>(ListField.ElementName);
        await using (var stream = File.Create(path))
        await using (var writer = await ParquetWriter.CreateAsync(new ParquetSchema(id, new ListField("vector", element)), stream))
        using (var group = writer.CreateRowGroup())
        {
            await group.WriteAsync<long>(id, new long[] { 1 });
            await group.WriteAllPartsAsync<double>(element, new double[] { 1 }, new[] { 2 }, new[] { 0 }, CancellationToken.None);
            group.CompleteValidate();
        }

        var e = Assert.Throws<BadInputException>(() => EmbeddingTableReader.Read(path));

        Assert.Equal($"{path}: column 'vector': expected list<float>, found list<double>", e.Message);
    }
}
