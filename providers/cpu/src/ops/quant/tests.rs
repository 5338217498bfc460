//! The quantizers, dequantizers and integer products against hand-computed
//! and numpy references.

use std::fmt::Debug;

use half::f16;
use ort_core::abi::AttrValue::{self, *};
use ort_core::ElemType::{self, I4, U4};
use ort_core::{Element, Tensor, Value};

use crate::testing::{assert_close, attr, run_node};

// Expected values come from onnxruntime 1.31, except where it lacks the case
// (int32 or 4-bit quantization), where numpy's rint/clip computed them.
fn v<T: Element>(shape: &[i64], data: &[T]) -> Option<Value> {
    Some(Value::Tensor(
        Tensor::from_vec(shape, data.to_vec()).unwrap(),
    ))
}

/// The deterministic integer inputs the reference values were computed from.
fn gen<T: Element + num_traits::NumCast>(shape: &[i64], k: i64, lo: i64, hi: i64) -> Option<Value> {
    let n = shape.iter().product::<i64>();
    let data: Vec<T> = (0..n)
        .map(|i| T::from(lo + (i * k + 5) % (hi - lo + 1)).unwrap())
        .collect();
    v(shape, &data)
}

/// The float input of most (de)quantization cases: ties, saturation, signs.
fn x() -> Option<Value> {
    let x = [
        -1.0, -0.25, 0.0, 0.25, 0.75, 1.25, 100.0, -100.0, 0.5, 1.5, 2.5, -0.75,
    ];
    v::<f32>(&[3, 4], &x)
}

/// A 4-bit tensor (one element per byte).
fn sub(e: ElemType, shape: &[i64], data: &[i8]) -> Option<Value> {
    Some(Value::Tensor(
        Tensor::from_bytes(e, shape, data.iter().map(|&b| b as u8).collect()).unwrap(),
    ))
}

fn ints(v: &[i64]) -> AttrValue<'static> {
    Ints(v.to_vec().into())
}

fn s(v: &str) -> AttrValue<'static> {
    String(v.as_bytes().to_vec().into())
}

fn out(outs: &[Option<Value>], i: usize, shape: &[i64]) -> Tensor {
    let t = outs[i].as_ref().unwrap().as_tensor().unwrap().clone();
    assert_eq!(t.shape(), shape, "output {i}");
    t
}

fn check<T: Element + PartialEq + Debug>(
    outs: &[Option<Value>],
    i: usize,
    shape: &[i64],
    want: &[T],
) {
    assert_eq!(out(outs, i, shape).as_slice::<T>().unwrap(), want);
}

fn check_f32(outs: &[Option<Value>], i: usize, shape: &[i64], want: &[f32]) {
    assert_close(out(outs, i, shape).as_slice::<f32>().unwrap(), want, 1e-6);
}

fn check_sub(outs: &[Option<Value>], i: usize, e: ElemType, shape: &[i64], want: &[i8]) {
    let t = out(outs, i, shape);
    assert_eq!(t.elem(), e);
    assert_eq!(
        t.bytes()
            .unwrap()
            .iter()
            .map(|&b| b as i8)
            .collect::<Vec<_>>(),
        want
    );
}

#[test]
fn quantize_per_tensor_rounds_half_to_even() {
    let ins = [x(), v::<f32>(&[], &[0.5])];
    let outs = run_node("QuantizeLinear", 10, &ins, vec![], 1).unwrap();
    check::<u8>(&outs, 0, &[3, 4], &[0, 0, 0, 0, 2, 2, 200, 0, 1, 3, 5, 0]);
}

#[test]
fn quantize_int8_saturates() {
    let ins = [x(), v::<f32>(&[], &[0.5]), v::<i8>(&[], &[-3])];
    let outs = run_node("QuantizeLinear", 10, &ins, vec![], 1).unwrap();
    check::<i8>(
        &outs,
        0,
        &[3, 4],
        &[-5, -3, -3, -3, -1, -1, 127, -128, -2, 0, 2, -5],
    );
}

#[test]
fn quantize_per_axis_0() {
    let ins = [
        x(),
        v::<f32>(&[3], &[0.5, 0.25, 2.0]),
        v::<u8>(&[3], &[10, 0, 250]),
    ];
    let outs = run_node("QuantizeLinear", 13, &ins, vec![attr("axis", Int(0))], 1).unwrap();
    check::<u8>(
        &outs,
        0,
        &[3, 4],
        &[8, 10, 10, 10, 3, 5, 255, 0, 250, 251, 251, 250],
    );
}

#[test]
fn quantize_per_axis_negative() {
    let ins = [
        x(),
        v::<f32>(&[4], &[0.5, 0.25, 2.0, 1.0]),
        v::<i8>(&[4], &[1, -1, 0, 5]),
    ];
    let outs = run_node("QuantizeLinear", 13, &ins, vec![attr("axis", Int(-1))], 1).unwrap();
    check::<i8>(
        &outs,
        0,
        &[3, 4],
        &[-1, -2, 0, 5, 3, 4, 50, -95, 2, 5, 1, 4],
    );
}

#[test]
fn quantize_blocked_int16() {
    let ins = [
        x(),
        v::<f32>(&[3, 2], &[0.5, 0.25, 0.125, 1.0, 2.0, 0.5]),
        v::<i16>(&[3, 2], &[1, 2, 3, -4, 0, 100]),
    ];
    let outs = run_node(
        "QuantizeLinear",
        21,
        &ins,
        vec![attr("axis", Int(1)), attr("block_size", Int(2))],
        1,
    )
    .unwrap();
    check::<i16>(
        &outs,
        0,
        &[3, 4],
        &[-1, 1, 2, 3, 9, 13, 96, -104, 0, 1, 105, 98],
    );
}

#[test]
fn quantize_blocked_uint16() {
    let ins = [
        x(),
        v::<f32>(&[3, 2], &[0.5, 0.25, 0.125, 1.0, 2.0, 0.5]),
        v::<u16>(&[3, 2], &[1, 2, 3, 4, 0, 100]),
    ];
    let outs = run_node(
        "QuantizeLinear",
        21,
        &ins,
        vec![attr("axis", Int(1)), attr("block_size", Int(2))],
        1,
    )
    .unwrap();
    check::<u16>(
        &outs,
        0,
        &[3, 4],
        &[0, 1, 2, 3, 9, 13, 104, 0, 0, 1, 105, 98],
    );
}

#[test]
fn quantize_output_dtype() {
    let ins = [x(), v::<f32>(&[], &[0.5])];
    let outs = run_node(
        "QuantizeLinear",
        21,
        &ins,
        vec![attr("output_dtype", Int(3))],
        1,
    )
    .unwrap();
    check::<i8>(
        &outs,
        0,
        &[3, 4],
        &[-2, 0, 0, 0, 2, 2, 127, -128, 1, 3, 5, -2],
    );
}

#[test]
fn quantize_float16() {
    let ins = [
        v::<f16>(
            &[3, 4],
            &[
                f16::from_f64(-1.0),
                f16::from_f64(-0.25),
                f16::from_f64(0.0),
                f16::from_f64(0.25),
                f16::from_f64(0.75),
                f16::from_f64(1.25),
                f16::from_f64(100.0),
                f16::from_f64(-100.0),
                f16::from_f64(0.5),
                f16::from_f64(1.5),
                f16::from_f64(2.5),
                f16::from_f64(-0.75),
            ],
        ),
        v::<f16>(&[], &[f16::from_f64(0.300048828125)]),
    ];
    let outs = run_node("QuantizeLinear", 19, &ins, vec![], 1).unwrap();
    check::<u8>(&outs, 0, &[3, 4], &[0, 0, 0, 1, 2, 4, 255, 0, 2, 5, 8, 0]);
}

#[test]
fn quantize_int32_input() {
    let ins = [
        v::<i32>(&[6], &[-7, 0, 3, 5, 1000, 9]),
        v::<f32>(&[], &[2.0]),
    ];
    let outs = run_node("QuantizeLinear", 13, &ins, vec![], 1).unwrap();
    check::<u8>(&outs, 0, &[6], &[0, 0, 2, 2, 255, 4]);
}

#[test]
fn quantize_blocked_int4() {
    let ins = [
        x(),
        v::<f32>(&[3, 2], &[0.25, 0.5, 1.0, 0.125, 0.5, 0.5]),
        sub(I4, &[3, 2], &[1, -2, 0, 3, -8, 7]),
    ];
    let outs = run_node(
        "QuantizeLinear",
        21,
        &ins,
        vec![attr("axis", Int(1)), attr("block_size", Int(2))],
        1,
    )
    .unwrap();
    check_sub(
        &outs,
        0,
        I4,
        &[3, 4],
        &[-3, 0, -2, -2, 1, 1, 7, -8, -7, -5, 7, 5],
    );
}

#[test]
fn quantize_uint4() {
    let ins = [x(), v::<f32>(&[], &[0.5]), sub(U4, &[], &[3])];
    let outs = run_node("QuantizeLinear", 21, &ins, vec![], 1).unwrap();
    check_sub(
        &outs,
        0,
        U4,
        &[3, 4],
        &[1, 3, 3, 3, 5, 5, 15, 0, 4, 6, 8, 1],
    );
}

#[test]
fn dequantize_uint8() {
    let ins = [
        v::<u8>(&[2, 4], &[0, 1, 2, 255, 128, 127, 10, 3]),
        v::<f32>(&[], &[0.5]),
        v::<u8>(&[], &[128]),
    ];
    let outs = run_node("DequantizeLinear", 10, &ins, vec![], 1).unwrap();
    check::<f32>(
        &outs,
        0,
        &[2, 4],
        &[-64.0, -63.5, -63.0, 63.5, 0.0, -0.5, -59.0, -62.5],
    );
}

#[test]
fn dequantize_per_axis() {
    let ins = [
        v::<i8>(&[2, 4], &[-128, -1, 0, 127, 5, -5, 64, -64]),
        v::<f32>(&[2], &[0.5, 0.125]),
        v::<i8>(&[2], &[-1, 3]),
    ];
    let outs = run_node("DequantizeLinear", 13, &ins, vec![attr("axis", Int(0))], 1).unwrap();
    check::<f32>(
        &outs,
        0,
        &[2, 4],
        &[-63.5, 0.0, 0.5, 64.0, 0.25, -1.0, 7.625, -8.375],
    );
}

#[test]
fn dequantize_int32() {
    let ins = [
        v::<i32>(&[4], &[-100000, 0, 7, 2147483647]),
        v::<f32>(&[], &[0.25]),
    ];
    let outs = run_node("DequantizeLinear", 10, &ins, vec![], 1).unwrap();
    check::<f32>(&outs, 0, &[4], &[-25000.0, 0.0, 1.75, 536870900.0]);
}

#[test]
fn dequantize_blocked_int16() {
    let ins = [
        v::<i16>(&[1, 4], &[-32768, 3, 32767, 0]),
        v::<f32>(&[1, 2], &[0.5, 2.0]),
        v::<i16>(&[1, 2], &[1, -1]),
    ];
    let outs = run_node(
        "DequantizeLinear",
        21,
        &ins,
        vec![attr("axis", Int(1)), attr("block_size", Int(2))],
        1,
    )
    .unwrap();
    check::<f32>(&outs, 0, &[1, 4], &[-16384.5, 1.0, 65536.0, 2.0]);
}

#[test]
fn dequantize_to_float16() {
    let ins = [
        v::<u16>(&[3], &[0, 65535, 1000]),
        v::<f16>(&[], &[f16::from_f64(0.300048828125)]),
        v::<u16>(&[], &[7]),
    ];
    let outs = run_node("DequantizeLinear", 21, &ins, vec![], 1).unwrap();
    check::<f16>(
        &outs,
        0,
        &[3],
        &[
            f16::from_f64(-2.099609375),
            f16::from_f64(19664.0),
            f16::from_f64(298.0),
        ],
    );
}

#[test]
fn dequantize_blocked_int4() {
    let ins = [
        sub(I4, &[2, 4], &[-8, -1, 0, 7, 3, 2, -3, 5]),
        v::<f32>(&[2, 2], &[0.5, 0.25, 1.0, 2.0]),
        sub(I4, &[2, 2], &[1, -2, 0, 3]),
    ];
    let outs = run_node(
        "DequantizeLinear",
        21,
        &ins,
        vec![attr("axis", Int(1)), attr("block_size", Int(2))],
        1,
    )
    .unwrap();
    check::<f32>(
        &outs,
        0,
        &[2, 4],
        &[-4.5, -1.0, 0.5, 2.25, 3.0, 2.0, -12.0, 4.0],
    );
}

#[test]
fn dequantize_uint4() {
    let ins = [
        sub(U4, &[5], &[0, 1, 7, 8, 15]),
        v::<f32>(&[], &[0.5]),
        sub(U4, &[], &[8]),
    ];
    let outs = run_node("DequantizeLinear", 21, &ins, vec![], 1).unwrap();
    check::<f32>(&outs, 0, &[5], &[-4.0, -3.5, -0.5, 0.0, 3.5]);
}

#[test]
fn dynamic_quantize() {
    let ins = [v::<f32>(
        &[2, 4],
        &[-1.5, 0.3, 2.7, 4.0, 0.0, -0.2, 1.1, 3.3],
    )];
    let outs = run_node("DynamicQuantizeLinear", 11, &ins, vec![], 3).unwrap();
    check::<u8>(&outs, 0, &[2, 4], &[0, 84, 195, 255, 70, 61, 121, 223]);
    check_f32(&outs, 1, &[], &[0.021568628]);
    check::<u8>(&outs, 2, &[], &[70]);
}

#[test]
fn dynamic_quantize_zeros() {
    let ins = [v::<f32>(&[3], &[0.0, 0.0, 0.0])];
    let outs = run_node("DynamicQuantizeLinear", 11, &ins, vec![], 3).unwrap();
    check::<u8>(&outs, 0, &[3], &[0, 0, 0]);
    check_f32(&outs, 1, &[], &[1.0]);
    check::<u8>(&outs, 2, &[], &[0]);
}

#[test]
fn dynamic_quantize_positive() {
    let ins = [v::<f32>(&[4], &[0.5, 1.0, 2.55, 0.01])];
    let outs = run_node("DynamicQuantizeLinear", 11, &ins, vec![], 3).unwrap();
    check::<u8>(&outs, 0, &[4], &[50, 100, 255, 1]);
    check_f32(&outs, 1, &[], &[0.01]);
    check::<u8>(&outs, 2, &[], &[0]);
}

#[test]
fn matmul_integer_scalar_zero_points() {
    let ins = [
        gen::<u8>(&[2, 3, 4], 7, 0, 255),
        gen::<u8>(&[4, 5], 11, 0, 255),
        v::<u8>(&[], &[12]),
        v::<u8>(&[], &[200]),
    ];
    let outs = run_node("MatMulInteger", 10, &ins, vec![], 1).unwrap();
    check::<i32>(
        &outs,
        0,
        &[2, 3, 5],
        &[
            350, 504, 658, 812, 966, -12250, -10864, -9478, -8092, -6706, -24850, -22232, -19614,
            -16996, -14378, -37450, -33600, -29750, -25900, -22050, -50050, -44968, -39886, -34804,
            -29722, -62650, -56336, -50022, -43708, -37394,
        ],
    );
}

#[test]
fn matmul_integer_batched_per_column() {
    let ins = [
        gen::<u8>(&[2, 1, 3, 4], 7, 0, 255),
        gen::<i8>(&[3, 4, 5], 13, -128, 127),
        v::<u8>(&[], &[3]),
        gen::<i8>(&[3, 1, 5], 3, -128, 127),
    ];
    let outs = run_node("MatMulInteger", 10, &ins, vec![], 1).unwrap();
    check::<i32>(
        &outs,
        0,
        &[2, 3, 3, 5],
        &[
            7150, 7650, 8150, 8650, 9150, 18070, 19690, 21310, 22930, 24550, 28990, 31730, 34470,
            37210, 39950, 6600, 7100, 7600, 8100, 2712, 16288, 17908, 19528, 21148, 9712, 25976,
            28716, 31456, 34196, 16712, 6050, 6550, 7050, 7550, 2162, 14506, 16126, 17746, 19366,
            7930, 22962, 25702, 28442, 31182, 13698, 39910, 43770, 47630, 51490, 55350, 50830,
            55810, 60790, 65770, 70750, 61750, 67850, 73950, 80050, 86150, 35664, 39524, 43384,
            47244, 23712, 45352, 50332, 55312, 60292, 30712, 55040, 61140, 67240, 73340, 37712,
            31418, 35278, 39138, 42998, 19466, 39874, 44854, 49834, 54814, 25234, 48330, 54430,
            60530, 66630, 31002,
        ],
    );
}

#[test]
fn matmul_integer_vector() {
    let ins = [
        gen::<i8>(&[3, 4], 7, -128, 127),
        gen::<i8>(&[4], 3, -128, 127),
    ];
    let outs = run_node("MatMulInteger", 10, &ins, vec![], 1).unwrap();
    check::<i32>(&outs, 0, &[3], &[53430, 40158, 26886]);
}

#[test]
fn qlinear_matmul_uint8() {
    let ins = [
        gen::<u8>(&[2, 3, 4], 7, 0, 255),
        v::<f32>(&[], &[0.05]),
        v::<u8>(&[], &[12]),
        gen::<u8>(&[4, 5], 11, 0, 255),
        v::<f32>(&[], &[0.02]),
        v::<u8>(&[], &[200]),
        v::<f32>(&[], &[0.3]),
        v::<u8>(&[], &[100]),
    ];
    let outs = run_node("QLinearMatMul", 10, &ins, vec![], 1).unwrap();
    check::<u8>(
        &outs,
        0,
        &[2, 3, 5],
        &[
            101, 102, 102, 103, 103, 59, 64, 68, 73, 78, 17, 26, 35, 43, 52, 0, 0, 1, 14, 26, 0, 0,
            0, 0, 1, 0, 0, 0, 0, 0,
        ],
    );
}

#[test]
fn qlinear_matmul_per_column_scale() {
    let ins = [
        gen::<i8>(&[3, 4], 7, -128, 127),
        v::<f32>(&[], &[0.05]),
        v::<i8>(&[], &[-3]),
        gen::<i8>(&[4, 5], 13, -128, 127),
        v::<f32>(&[5], &[0.02, 0.01, 0.03, 0.04, 0.05]),
        v::<i8>(&[5], &[0, 0, 0, 0, 0]),
        v::<f32>(&[], &[0.7]),
        v::<i8>(&[], &[-10]),
    ];
    let outs = run_node("QLinearMatMul", 10, &ins, vec![], 1).unwrap();
    check::<i8>(
        &outs,
        0,
        &[3, 5],
        &[
            9, -4, -6, -20, -43, 5, -5, -5, -16, -33, 1, -6, -5, -12, -22,
        ],
    );
}

#[test]
fn conv_integer_groups_pads_strides() {
    let ins = [
        gen::<u8>(&[1, 2, 5, 5], 7, 0, 255),
        gen::<u8>(&[4, 1, 3, 3], 5, 0, 255),
        v::<u8>(&[], &[128]),
        v::<u8>(&[], &[100]),
    ];
    let outs = run_node(
        "ConvInteger",
        10,
        &ins,
        vec![
            attr("group", Int(2)),
            attr("pads", ints(&[1, 0, 1, 2])),
            attr("strides", ints(&[2, 1])),
        ],
        1,
    )
    .unwrap();
    check::<i32>(
        &outs,
        0,
        &[1, 4, 3, 5],
        &[
            40820, 37985, 35150, 23240, 11500, 34410, 29685, 24960, 15405, 7050, -2290, -5755,
            -9220, -7600, -4550, 14225, 13280, 12335, 8660, 4525, 15780, 13890, 12000, 7710, 3675,
            -535, -2110, -3685, -3280, -2075, 11255, 12200, 13145, 8080, 3675, -11225, -12840,
            -11895, -7340, -3410, -2425, -2110, -1795, -580, -5, 31910, 34745, 37580, 25000, 12450,
            -16580, -26880, -23100, -13865, -6200, -22540, -20335, -18130, -10840, -4820,
        ],
    );
}

#[test]
fn conv_integer_1d_dilation() {
    let ins = [
        gen::<u8>(&[2, 3, 6], 7, 0, 255),
        gen::<u8>(&[2, 3, 2], 5, 0, 255),
    ];
    let outs = run_node(
        "ConvInteger",
        10,
        &ins,
        vec![attr("dilations", ints(&[2])), attr("pads", ints(&[1, 2]))],
        1,
    )
    .unwrap();
    check::<i32>(
        &outs,
        0,
        &[2, 2, 7],
        &[
            4080, 7455, 8190, 8925, 9660, 4215, 4530, 8940, 17175, 19170, 21165, 23160, 10965,
            11910, 11640, 20685, 21420, 22155, 22890, 9885, 10200, 27840, 53085, 55080, 57075,
            59070, 27975, 28920,
        ],
    );
}

#[test]
fn conv_integer_same_upper() {
    let ins = [
        gen::<u8>(&[2, 3, 6], 7, 0, 255),
        gen::<u8>(&[2, 3, 2], 5, 0, 255),
    ];
    let outs = run_node(
        "ConvInteger",
        10,
        &ins,
        vec![
            attr("strides", ints(&[4])),
            attr("auto_pad", s("SAME_UPPER")),
        ],
        1,
    )
    .unwrap();
    check::<i32>(
        &outs,
        0,
        &[2, 2, 2],
        &[7035, 9975, 16125, 24105, 20265, 23205, 52035, 60015],
    );
}

#[test]
fn qlinear_conv_per_channel_bias() {
    let ins = [
        gen::<u8>(&[1, 2, 5, 5], 7, 0, 255),
        v::<f32>(&[], &[0.02]),
        v::<u8>(&[], &[128]),
        gen::<i8>(&[4, 1, 3, 3], 5, -128, 127),
        v::<f32>(&[4], &[0.01, 0.02, 0.005, 0.03]),
        v::<i8>(&[4], &[0, 0, 0, 0]),
        v::<f32>(&[], &[0.1]),
        v::<u8>(&[], &[120]),
        v::<i32>(&[4], &[100, -200, 3000, -40000]),
    ];
    let outs = run_node(
        "QLinearConv",
        10,
        &ins,
        vec![
            attr("group", Int(2)),
            attr("pads", ints(&[1, 1, 1, 1])),
            attr("strides", ints(&[2, 2])),
        ],
        1,
    )
    .unwrap();
    check::<u8>(
        &outs,
        0,
        &[1, 4, 3, 3],
        &[
            197, 227, 185, 184, 199, 161, 119, 104, 100, 200, 234, 190, 194, 214, 169, 118, 102,
            95, 123, 121, 121, 117, 119, 120, 129, 132, 129, 0, 4, 0, 0, 0, 0, 0, 0, 0,
        ],
    );
}

#[test]
fn qlinear_conv_int8_same_lower() {
    let ins = [
        gen::<i8>(&[1, 3, 4, 4], 7, -128, 127),
        v::<f32>(&[], &[0.02]),
        v::<i8>(&[], &[-5]),
        gen::<i8>(&[2, 3, 2, 2], 5, -128, 127),
        v::<f32>(&[], &[0.01]),
        v::<i8>(&[], &[0]),
        v::<f32>(&[], &[0.2]),
        v::<i8>(&[], &[3]),
    ];
    let outs = run_node(
        "QLinearConv",
        10,
        &ins,
        vec![
            attr("auto_pad", s("SAME_LOWER")),
            attr("strides", ints(&[1, 2])),
        ],
        1,
    )
    .unwrap();
    check::<i8>(
        &outs,
        0,
        &[1, 2, 4, 2],
        &[13, 6, 45, 29, 54, 38, 22, 6, 12, 10, 22, 16, 21, 15, 9, 3],
    );
}

#[test]
fn bad_parameters_are_errors() {
    let x = || v::<f32>(&[2, 3], &[0.0; 6]);
    let run = |ins: &[Option<Value>], attrs| run_node("QuantizeLinear", 21, ins, attrs, 1);
    // Per-axis scale of the wrong length, zero point shape mismatch, type conflict.
    assert!(run(&[x(), v::<f32>(&[2], &[1.0, 1.0])], vec![]).is_err());
    assert!(run(
        &[x(), v::<f32>(&[3], &[1.0; 3]), v::<u8>(&[1], &[0])],
        vec![]
    )
    .is_err());
    assert!(run(
        &[x(), v::<f32>(&[], &[1.0]), v::<u8>(&[], &[0])],
        vec![attr("output_dtype", Int(3))]
    )
    .is_err());
    // A blocked scale whose blocks do not tile x.
    let bad = vec![attr("axis", Int(1)), attr("block_size", Int(1))];
    assert!(run(&[x(), v::<f32>(&[2, 2], &[1.0; 4])], bad).is_err());
    // float8 outputs hold one code per element (zeros here).
    let o = run(
        &[x(), v::<f32>(&[], &[1.0])],
        vec![attr("output_dtype", Int(17))],
    )
    .unwrap();
    check_sub(&o, 0, ElemType::F8E4M3FN, &[2, 3], &[0; 6]);
    let ins = [v::<u8>(&[2, 3], &[0; 6]), v::<u8>(&[4, 2], &[0; 8])];
    assert!(run_node("MatMulInteger", 10, &ins, vec![], 1).is_err());
}
