namespace DinCluster.Cli.Tests.Support;

/// <summary>Paths of the repository the tests run from (they run from bin/, below it).</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    /// <summary>A committed fixture of the Data tests (tests/DinCluster.Data.Tests/Fixtures/NAME).</summary>
    public static string Fixture(string name) => Path.Combine(Root, "tests", "DinCluster.Data.Tests", "Fixtures", name);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "DinCluster.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"no DinCluster.sln above {AppContext.BaseDirectory}");
    }
}
