using DinCluster.Cluster.Hosting;
using DinCluster.Cluster.Ledger;
using DinCluster.Cluster.Local;
using DinCluster.Cluster.Protocol;
using DinCluster.Cluster.Tests.Support;
using DinCluster.Core.Batches;
using DinCluster.Core.Embeddings;
using DinCluster.Core.Optimizers;
using DinCluster.Data;
using DinCluster.Model.Networks;
using DinCluster.Model.Training;
using Xunit.Abstractions;

namespace DinCluster.Cluster.Tests.Hosting;

/// <summary>
/// bsp with 2 workers and 2 PS shards against one process training on the same global batches
/// (the concatenation of the step's worker batches, in worker order): equal losses to 1e-5.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed class BspParityTests(ITestOutputHelper output)
{
    private const int Steps = 50;

    [Fact]
    public async Task Bsp_cluster_losses_equal_single_process_losses_when_trained_on_the_same_global_batches()
    {
        const int seed = 31;
        output.WriteLine($"seed {seed}");
        using var dir = new TempDir();
        var data = Path.Combine(dir.Path, "data");
        SyntheticData.Write(data, seed, trainSamples: 4000, testSamples: 200, rowGroupSize: 500);
        var job = SyntheticData.Job(data, Path.Combine(dir.Path, "run"), seed) with { MaxSteps = Steps };

        var timeout = TimeSpan.FromMinutes(4);
        using var cts = new CancellationTokenSource(timeout);
        var result = await ClusterRunner.RunSimulated(job, new ClusterShapeOptions(Workers: 2, DataShards: 2, Sync: SyncMode.Bsp), new StringWriter(), ct: cts.Token)
            .WaitAsync(timeout);
        Assert.True(result.Summary.Status == "completed", $"bsp run {result.Summary.Status}: {result.Summary.Error}");
        Assert.Equal(Steps, result.Steps.Count);

        // The batches exactly as the data shards cut them (same assignment, epoch order and plan).
        var reader = new BehaviourLogReader(job.Schema);
        var units = LocalTrainer.Inventory(reader, job.TrainFiles(), out _).Select(u => new RowGroupRef(u.File, u.RowGroup, u.Rows)).ToList();
        var shards = RowGroupAssignment.Assign(units, 2);
        var where = new Dictionary<long, (RowGroupRef Group, BatchTicket Ticket)>();
        for (var d = 0; d < shards.Length; d++)
        {
            var order = BatchTicket.EpochOrder(shards[d], job.Seed, 1, d);
            foreach (var t in BatchTicket.Plan(1, d, order, job.BatchSize)) where[t.BatchId] = (order[t.GroupOrdinal], t);
        }
        Batch Load(long id)
        {
            var (g, t) = where[id];
            return reader.ReadRowGroup(g.File, g.RowGroup, id).Slice(t.Offset, t.Count, id);
        }

        TorchThreads.Configure(1);
        using var network = new DinNetwork(job.Schema, job.Model);
        var tables = new ShardedEmbeddings(job.Schema.Tables, job.PsShards, job.Embeddings);
        var dense = new DenseParameters(network.GetDense(), job.Dense);
        var worst = 0.0;
        foreach (var step in result.Steps)
        {
            var batch = Batch.Concat(step.BatchIds.Select(Load).ToList(), step.Step);
            Assert.Equal(step.Samples, batch.Count);
            var index = BatchIndex.Build(batch, job.Schema);
            var r = network.TrainStep(batch, index, EmbeddingRows.Pull(tables, job.Schema, index));
            EmbeddingRows.Push(tables, job.Schema, index, r.RowGradients, -1 - step.Step);
            dense.Apply(r.DenseGradient);
            network.SetDense(dense.Values);
            var diff = Math.Abs(r.Loss - step.Loss);
            worst = Math.Max(worst, diff);
            Assert.True(diff <= 1e-5, $"step {step.Step} (workers {string.Join(",", step.Workers)}, batches {string.Join(",", step.BatchIds)}): cluster loss {step.Loss:R}, single process {r.Loss:R}");
        }
        output.WriteLine($"{result.Steps.Count} global steps, largest loss difference {worst:E2}");
    }
}
