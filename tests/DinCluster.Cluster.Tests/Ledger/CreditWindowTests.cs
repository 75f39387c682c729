using DinCluster.Cluster.Ledger;

namespace DinCluster.Cluster.Tests.Ledger;

public sealed class CreditWindowTests
{
    [Fact]
    public void Credit_window_gives_a_worker_at_most_what_it_asked_for()
    {
        var credit = new CreditWindow();
        credit.Grant(worker: 3, count: 2);
        Assert.True(credit.TryTake(out var a));
        Assert.True(credit.TryTake(out var b));
        Assert.False(credit.TryTake(out _));
        Assert.Equal((3, 3), (a, b));
        Assert.False(credit.HasCredit);
    }

    [Fact]
    public void Credit_window_serves_workers_round_robin_when_several_have_credit()
    {
        var credit = new CreditWindow();
        credit.Grant(0, 3);
        credit.Grant(1, 1);
        credit.Grant(2, 2);
        var order = new List<int>();
        while (credit.TryTake(out var w)) order.Add(w);
        Assert.Equal([0, 1, 2, 0, 2, 0], order);
    }

    [Fact]
    public void Credit_window_drops_credit_when_worker_is_removed()
    {
        var credit = new CreditWindow();
        credit.Grant(0, 3);
        credit.Remove(0);
        Assert.Equal(0, credit.Credit(0));
        Assert.False(credit.TryTake(out _));
    }
}
