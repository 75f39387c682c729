using DinCluster.Cluster.Ledger;
using DinCluster.Cluster.Protocol;
using Xunit.Abstractions;

namespace DinCluster.Cluster.Tests.Ledger;

public sealed class RowGroupLedgerTests(ITestOutputHelper output)
{
    private static readonly RowGroupRef[] Groups = [new("a", 0, 10), new("a", 1, 7), new("b", 0, 3)];

    [Fact]
    public void Plan_cuts_batches_within_row_groups_and_covers_every_row()
    {
        var tickets = BatchTicket.Plan(epoch: 2, shard: 1, Groups, batchSize: 4);
        Assert.Equal([4, 4, 2, 4, 3, 3], tickets.Select(t => t.Count));
        Assert.Equal([0, 0, 0, 1, 1, 2], tickets.Select(t => t.GroupOrdinal));
        Assert.Equal([0, 4, 8, 0, 4, 0], tickets.Select(t => t.Offset));
        Assert.All(tickets, t => Assert.Equal(2, BatchTicket.EpochOf(t.BatchId)));
        Assert.Equal(tickets.Count, tickets.Select(t => t.BatchId).Distinct().Count());
    }

    [Fact]
    public void Plan_gives_different_batch_ids_when_epoch_or_shard_differ()
    {
        var ids = new[] { (1, 0), (2, 0), (1, 1) }
            .SelectMany(x => BatchTicket.Plan(x.Item1, x.Item2, Groups, 4).Select(t => t.BatchId)).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public void Ledger_counts_acked_batches_outside_a_checkpoint_as_consumed_except_it()
    {
        var ledger = new RowGroupLedger(1, BatchTicket.Plan(1, 0, Groups, 4));
        var issued = Enumerable.Range(0, 4).Select(_ => ledger.Issue(0)!).ToList();
        ledger.RecordShortfall(issued[2].BatchId, 1);
        foreach (var t in issued.Take(3)) ledger.Ack(t.BatchId);
        // Kept: the first; acked and not kept: the second (4 rows) and the third (2 rows, 1 skipped as bad input);
        // the fourth was issued, never acked: not counted.
        Assert.Equal((2, 4L + 1), ledger.ConsumedExcept([issued[0].BatchId]));
        Assert.Equal((0, 0L), ledger.ConsumedExcept(issued.Select(t => t.BatchId).ToArray()));
    }

    [Fact]
    public void Ledger_is_exact_when_every_batch_is_acked_once()
    {
        var ledger = new RowGroupLedger(0, BatchTicket.Plan(0, 0, Groups, 4));
        while (ledger.Issue(0) is { } t) Assert.Equal(AckOutcome.Consumed, ledger.Ack(t.BatchId));
        Assert.True(ledger.IsExact);
        Assert.Equal(20, ledger.SamplesConsumed);
        Assert.Equal(0, ledger.SamplesReplayed);
    }

    [Fact]
    public void Ledger_reissues_unacked_batches_first_when_their_worker_dies()
    {
        var ledger = new RowGroupLedger(0, BatchTicket.Plan(0, 0, Groups, 4));
        var a = ledger.Issue(worker: 0)!;
        var b = ledger.Issue(worker: 0)!;
        var c = ledger.Issue(worker: 1)!;
        ledger.Ack(a.BatchId);
        Assert.Equal(1, ledger.ReleaseWorker(0));
        Assert.Equal(b, ledger.Issue(worker: 1));
        Assert.Equal(b.Count, ledger.SamplesReplayed);
        Assert.Equal(1, ledger.BatchesReplayed);
        Assert.Equal(AckOutcome.Consumed, ledger.Ack(c.BatchId));
    }

    [Fact]
    public void Ledger_ignores_second_ack_when_a_batch_was_acked_before()
    {
        var ledger = new RowGroupLedger(0, BatchTicket.Plan(0, 0, Groups, 4));
        var a = ledger.Issue(0)!;
        ledger.Ack(a.BatchId);
        Assert.Equal(AckOutcome.Duplicate, ledger.Ack(a.BatchId));
        Assert.Equal(AckOutcome.Unknown, ledger.Ack(12345));
        Assert.Equal(a.Count, ledger.SamplesConsumed);
        Assert.Equal(1, ledger.DuplicateAcks);
    }

    [Fact]
    public void Ledger_consumes_batch_when_a_late_ack_arrives_after_release()
    {
        var ledger = new RowGroupLedger(0, BatchTicket.Plan(0, 0, Groups, 4));
        var a = ledger.Issue(0)!;
        ledger.ReleaseWorker(0);
        Assert.Equal(AckOutcome.Consumed, ledger.Ack(a.BatchId));
        Assert.NotEqual(a, ledger.Issue(1));
        Assert.Equal(ledger.Batches - 2, ledger.Pending);
    }

    [Fact]
    public void Ledger_consumes_every_sample_exactly_once_when_workers_die_at_random()
    {
        const int seed = 4242;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        var groups = Enumerable.Range(0, 12).Select(g => new RowGroupRef("f", g, random.Next(1, 500))).ToArray();
        var ledger = new RowGroupLedger(3, BatchTicket.Plan(3, 2, groups, 32));
        var held = Enumerable.Range(0, 4).Select(_ => new List<BatchTicket>()).ToArray();
        var acked = new List<long>();
        while (!ledger.IsComplete)
        {
            var w = random.Next(held.Length);
            switch (random.Next(10))
            {
                case < 5 when ledger.Issue(w) is { } t: held[w].Add(t); break;
                case < 9 when held[w].Count > 0:
                    var i = random.Next(held[w].Count);
                    if (ledger.Ack(held[w][i].BatchId) == AckOutcome.Consumed) acked.Add(held[w][i].BatchId);
                    held[w].RemoveAt(i);
                    break;
                case 9:
                    ledger.ReleaseWorker(w);
                    held[w].Clear();
                    break;
            }
        }
        Assert.True(ledger.IsExact);
        Assert.Equal(groups.Sum(g => g.Rows), ledger.SamplesConsumed);
        Assert.Equal(acked.Count, acked.Distinct().Count());
        output.WriteLine($"replayed {ledger.SamplesReplayed} samples in {ledger.BatchesReplayed} batches");
    }

    [Fact]
    public void Ledger_counts_skipped_rows_once_when_a_short_batch_is_reissued()
    {
        var ledger = new RowGroupLedger(0, BatchTicket.Plan(0, 0, Groups, 4));
        var a = ledger.Issue(0)!;
        ledger.RecordShortfall(a.BatchId, 1);
        ledger.ReleaseWorker(0);
        Assert.Equal(a, ledger.Issue(1));
        ledger.RecordShortfall(a.BatchId, 1);
        ledger.Ack(a.BatchId);
        while (ledger.Issue(1) is { } t) ledger.Ack(t.BatchId);
        Assert.Equal(3, ledger.SamplesSkipped);
        Assert.Equal(17, ledger.SamplesConsumed);
        Assert.True(ledger.IsExact);
    }

    [Fact]
    public void Ledger_restored_from_a_checkpoint_serves_only_the_rest_and_is_exact_once_that_is_acked()
    {
        var tickets = BatchTicket.Plan(epoch: 3, shard: 2, Groups, batchSize: 4);
        Assert.All(tickets, t => Assert.Equal(2, BatchTicket.ShardOf(t.BatchId)));
        var ledger = new RowGroupLedger(3, tickets);
        Assert.Equal(2, ledger.RestoreConsumed([tickets[0].BatchId, tickets[3].BatchId, tickets[0].BatchId]));
        Assert.Equal(tickets[0].Count + tickets[3].Count, ledger.SamplesConsumed);
        Assert.Equal(tickets.Count - 2, ledger.Pending);
        var served = new List<long>();
        while (ledger.Issue(0) is { } t) served.Add(t.BatchId);
        Assert.Equal(tickets.Where((_, k) => k is not 0 and not 3).Select(t => t.BatchId), served);
        foreach (var id in served) Assert.Equal(AckOutcome.Consumed, ledger.Ack(id));
        Assert.True(ledger.IsExact);
        Assert.Equal(0, ledger.SamplesReplayed);
        Assert.Throws<ArgumentException>(() => new RowGroupLedger(3, tickets).RestoreConsumed([BatchTicket.Plan(4, 2, Groups, 4)[0].BatchId]));
    }
}
