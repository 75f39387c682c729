using System.Text;
using DinCluster.Core.Embeddings;
using DinCluster.Core.Optimizers;
using Xunit.Abstractions;

namespace DinCluster.Core.Tests.Embeddings;

public sealed class EmbeddingSnapshotTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dincluster-snap-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ShardedEmbeddings Trained(EmbeddingSettings settings, int shards, int seed, int pushes)
    {
        var sharded = new ShardedEmbeddings(ShardedEmbeddingsTests.Tables, shards, settings);
        foreach (var (table, ids, grads, counts, batchId) in ShardedEmbeddingsTests.Pushes(seed, pushes))
            sharded.Push(table, ids, grads, batchId, counts);
        return sharded;
    }

    [Theory]
    [InlineData("adam:lr=0.01")]
    [InlineData("ftrl")]
    [InlineData("adagrad")]
    public void Restore_onto_3_shards_gives_every_row_slot_and_count_of_a_4_shard_snapshot(string optimizer)
    {
        const int seed = 77;
        output.WriteLine($"seed {seed}, optimizer {optimizer}");
        var settings = new EmbeddingSettings { Seed = 4, Optimizer = SparseOptimizerSettings.Parse(optimizer), TtlSteps = 40, MbaLambda = 0.01f };
        var four = Trained(settings, 4, seed, 100);
        four.Push("user", [1L], new float[4], batchId: 5000);
        var paths = four.WriteSnapshot(_dir);
        Assert.Equal(4, paths.Length);

        var three = ShardedEmbeddings.Restore(paths, 3, settings);

        var all = Enumerable.Range(-100, 500).Select(i => (long)i).ToArray();
        foreach (var (table, _) in ShardedEmbeddingsTests.Tables)
        {
            foreach (var id in all) ShardedEmbeddingsTests.AssertSameRow(four.ReadRow(table, id), three.ReadRow(table, id));
            Assert.Equal(four.Shards.Sum(s => s.RowIds(table).Length), three.Shards.Sum(s => s.RowIds(table).Length));
            // Each new shard holds exactly the rows that route to it.
            for (var s = 0; s < 3; s++)
                Assert.All(three.Shards[s].RowIds(table), id => Assert.Equal(s, three.Router.ShardOf(table, id)));
        }

        // The dedup memory came back, and so did step clocks and optimizer state: training on gives the same rows.
        Assert.Equal(PushStatus.DuplicateIgnored, three.Push("user", [1L], new float[4], batchId: 5000).Status);
        foreach (var (table, ids, grads, counts, batchId) in ShardedEmbeddingsTests.Pushes(seed + 1, 60))
            Assert.Equal(four.Push(table, ids, grads, batchId + 1000, counts), three.Push(table, ids, grads, batchId + 1000, counts));
        foreach (var (table, _) in ShardedEmbeddingsTests.Tables)
            foreach (var id in all) ShardedEmbeddingsTests.AssertSameRow(four.ReadRow(table, id), three.ReadRow(table, id));
    }

    [Fact]
    public void Restore_keeps_admission_counts_when_an_id_was_seen_but_not_yet_admitted()
    {
        var settings = new EmbeddingSettings { MinCount = 3, AdmissionSketchWidth = 4096 };
        var two = new ShardedEmbeddings(ShardedEmbeddingsTests.Tables, 2, settings);
        two.Push("item", [5L], new float[16], batchId: 0, counts: [2]);
        var three = ShardedEmbeddings.Restore(two.WriteSnapshot(_dir), 3, settings);
        Assert.Null(three.ReadRow("item", 5));
        Assert.Equal(1, three.Push("item", [5L], new float[16], batchId: 1).RowsCreated);
    }

    [Fact]
    public void Restore_fails_naming_the_file_when_a_byte_is_corrupted()
    {
        var settings = new EmbeddingSettings();
        var path = Trained(settings, 1, 3, 10).WriteSnapshot(_dir)[0];
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0x10;
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => EmbeddingSnapshot.Restore([path], 1, 0, settings));
        Assert.Contains(path, e.Message);
        Assert.Contains("checksum", e.Message);
    }

    [Fact]
    public void Restore_fails_when_the_settings_have_another_seed_or_optimizer()
    {
        var settings = new EmbeddingSettings { Seed = 1 };
        var paths = Trained(settings, 2, 3, 5).WriteSnapshot(_dir);
        Assert.Contains("seed", Assert.Throws<InvalidDataException>(() => EmbeddingSnapshot.Restore(paths, 1, 0, settings with { Seed = 2 })).Message);
        var adam = settings with { Optimizer = SparseOptimizerSettings.Parse("adam") };
        Assert.Contains("Adagrad", Assert.Throws<InvalidDataException>(() => EmbeddingSnapshot.Restore(paths, 1, 0, adam)).Message);
    }

    [Fact]
    public void Crc32C_gives_the_standard_check_value_and_agrees_with_a_bitwise_reference_when_split_anywhere()
    {
        Assert.Equal(0xE3069283u, Crc32C.Append(0, Encoding.ASCII.GetBytes("123456789")));
        var rng = new Random(8);
        var data = new byte[1000];
        rng.NextBytes(data);
        uint reference = 0xFFFFFFFF;
        foreach (var b in data)
        {
            reference ^= b;
            for (var k = 0; k < 8; k++) reference = (reference & 1) != 0 ? 0x82F63B78u ^ (reference >> 1) : reference >> 1;
        }
        reference = ~reference;
        foreach (var cut in new[] { 0, 1, 7, 8, 13, 500, 999, 1000 })
            Assert.Equal(reference, Crc32C.Append(Crc32C.Append(0, data.AsSpan(0, cut)), data.AsSpan(cut)));
    }
}
