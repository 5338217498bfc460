fn main() {
    let root = std::env::args().nth(1).unwrap();
    let out = std::env::args().nth(2).unwrap();
    let fds = protox::compile([format!("{root}/onnx/onnx-data.proto3")], [root.as_str()]).unwrap();
    let mut cfg = prost_build::Config::new();
    cfg.out_dir(&out);
    cfg.compile_fds(fds).unwrap();
}
