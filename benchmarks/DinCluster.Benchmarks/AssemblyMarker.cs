namespace DinCluster.Benchmarks;
internal static class AssemblyMarker { }
