"""Processing using DRAM: Ambit's triple-row activation and RowClone, on the simulated device.

``layout`` says which rows of a subarray are data, constant and compute rows; ``execute``
runs a µprogram (pimsim.programs) on one subarray, bit-exactly and under the device's timing.
"""
