using ScottPlot;

namespace DinCluster.Cluster.Runs;

/// <summary>RUN/curves.png: training loss against samples seen, and test AUC/GAUC per epoch.</summary>
public static class CurvesPlot
{
    public static void Save(IReadOnlyList<MetricsRow> rows, string path, double? bayesAuc = null)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();

        var loss = multiplot.GetPlot(0);
        var train = rows.Where(r => r.TrainLoss is not null).ToList();
        if (train.Count > 0)
        {
            var line = loss.Add.Scatter(train.Select(r => (double)r.Samples).ToArray(), train.Select(r => r.TrainLoss!.Value).ToArray());
            line.LegendText = "train log loss (window mean)";
            line.MarkerSize = 0;
        }
        var testLoss = rows.Where(r => r.TestLogLoss is not null).ToList();
        if (testLoss.Count > 0)
        {
            var line = loss.Add.Scatter(testLoss.Select(r => (double)r.Samples).ToArray(), testLoss.Select(r => r.TestLogLoss!.Value).ToArray());
            line.LegendText = "test log loss";
        }
        loss.Title("Log loss");
        loss.XLabel("training samples seen");
        loss.ShowLegend();

        var auc = multiplot.GetPlot(1);
        var test = rows.Where(r => r.TestAuc is not null).ToList();
        if (test.Count > 0)
        {
            var epochs = test.Select(r => (double)r.Epoch).ToArray();
            auc.Add.Scatter(epochs, test.Select(r => r.TestAuc!.Value).ToArray()).LegendText = "test AUC";
            auc.Add.Scatter(epochs, test.Select(r => r.TestGauc ?? double.NaN).ToArray()).LegendText = "test GAUC";
        }
        if (bayesAuc is { } b)
        {
            var h = auc.Add.HorizontalLine(b);
            h.LegendText = "Bayes-optimal AUC";
            h.LinePattern = LinePattern.Dashed;
        }
        auc.Title("Test AUC / GAUC");
        auc.XLabel("epoch");
        auc.ShowLegend();

        multiplot.SavePng(path, 1200, 450);
    }
}
